// Package grow appends to the slices a store's read fills one row at a
// time.
package grow

import "slices"

// Append appends v to s, doubling the capacity of a full s. Plain append
// grows a slice of more than 256 elements by about a quarter at a time,
// so filling a catch-up batch of 50,000 events that way allocates and
// copies the events about five times over; doubling copies them about once.
func Append[E any](s []E, v E) []E {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 16))
	}
	return append(s, v)
}
