package main

import "testing"

// TestEnvBoolSettingValues: the value of a boolean variable, the default
// when it is unset or not a boolean (which envBoolSetting also reports).
func TestEnvBoolSettingValues(t *testing.T) {
	for _, c := range []struct {
		value    string
		def      bool
		want     bool
		describe string
	}{
		{"", true, true, "unset keeps the default"},
		{"false", true, false, "false"},
		{"0", true, false, "0"},
		{"no", true, false, "no"},
		{"yes", false, true, "yes"},
		{"1", false, true, "1"},
		{"maybe", true, true, "a non-boolean keeps the default"},
	} {
		t.Setenv("LEDGER_TEST_BOOL", c.value)
		if got, _ := envBoolSetting("LEDGER_TEST_BOOL", c.def); got != c.want {
			t.Errorf("%s: %q with default %v gave %v", c.describe, c.value, c.def, got)
		}
	}
}
