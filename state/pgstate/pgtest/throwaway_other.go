//go:build !unix

package pgtest

import "errors"

var errNoBinaries = errors.New("no throwaway cluster on this system: it needs flock")

func throwaway() (string, error) { return "", errNoBinaries }

func isThrowaway(string) bool { return false }
