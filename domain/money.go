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
