package domain

import (
	"fmt"
	"strconv"
	"strings"
)

// Fen is an amount of money in fen (分, CNY/100). Never a float.
type Fen int64

// MaxFen is ¥1 trillion, a sanity ceiling for any single amount.
const MaxFen Fen = 1_000_000_000_000_00

// CheckFen returns an invalid_argument *Error when v is negative or above
// MaxFen, and nil otherwise.
func CheckFen(v Fen) error {
	if v < 0 {
		return invalidValue("amount must not be negative, got %s", v)
	}
	if v > MaxFen {
		return invalidValue("amount %s is above the ceiling of %s", v, MaxFen)
	}
	return nil
}

// ParseYuan reads an amount written in yuan as people type it on a form:
// "50000", "50000.5", "50,000.00", "¥50,000", "50000元", or in full-width
// characters ("５００００", "￥５０，０００．５０"). Commas must group
// thousands, and at most two decimals (fen) may follow the point. It
// returns an invalid_argument *Error for anything else, for a negative
// amount and for one above MaxFen.
func ParseYuan(s string) (Fen, error) {
	text := strings.Map(halfWidth, strings.TrimSpace(s))
	text = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(text, "¥"), "元"))
	if strings.HasPrefix(text, "-") {
		return 0, invalidValue("amount must not be negative, got %s", s)
	}
	whole, decimals, _ := strings.Cut(text, ".")
	whole, grouped := ungroupThousands(whole)
	if !grouped || !allDigits(whole) || !allDigits(decimals) || whole == "" || strings.HasSuffix(text, ".") {
		return 0, invalidValue("is not an amount in yuan such as 50000 or 50,000.50")
	}
	if len(decimals) > 2 {
		return 0, invalidValue("has more than two decimals; the smallest amount is one fen (0.01 yuan)")
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > len(strconv.FormatInt(int64(MaxFen/100), 10)) {
		return 0, invalidValue("amount is above the ceiling of %s", MaxFen)
	}
	yuan, _ := strconv.ParseInt("0"+whole, 10, 64) // at most 13 digits
	fen, _ := strconv.ParseInt("0"+decimals+strings.Repeat("0", 2-len(decimals)), 10, 64)
	amount := Fen(yuan*100 + fen)
	if amount > MaxFen {
		return 0, invalidValue("amount is above the ceiling of %s", MaxFen)
	}
	return amount, nil
}

// halfWidth folds what Chinese input methods type in full-width mode to
// ASCII (FoldWidth), and the full-width yen sign to ¥.
func halfWidth(r rune) rune {
	if r == '￥' {
		return '¥'
	}
	return FoldWidth(r)
}

// ungroupThousands removes the commas of digits grouped in threes
// ("50,000" → "50000"), reporting false when a comma stands elsewhere.
func ungroupThousands(s string) (string, bool) {
	if !strings.Contains(s, ",") {
		return s, true
	}
	groups := strings.Split(s, ",")
	if n := len(groups[0]); n == 0 || n > 3 {
		return "", false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return "", false
		}
	}
	return strings.Join(groups, ""), true
}

// String formats f in yuan with thousands separators, e.g. "¥50,000.00" or
// "-¥1.50".
func (f Fen) String() string {
	sign, yuan, cents := f.split()
	return sign + "¥" + groupThousands(strconv.FormatUint(yuan, 10)) + "." + cents
}

// YuanString formats f in yuan without separators or currency sign, e.g.
// "50000.00" or "-1.50", for CSV.
func (f Fen) YuanString() string {
	sign, yuan, cents := f.split()
	return sign + strconv.FormatUint(yuan, 10) + "." + cents
}

// split returns the sign, the whole yuan and the two fen digits of f.
func (f Fen) split() (sign string, yuan uint64, cents string) {
	u := uint64(f)
	if f < 0 {
		sign, u = "-", -u
	}
	return sign, u / 100, fmt.Sprintf("%02d", u%100)
}

// groupThousands inserts a comma every three digits from the right.
func groupThousands(digits string) string {
	var b strings.Builder
	for i := 0; i < len(digits); i++ {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}
