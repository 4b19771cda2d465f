package main

import (
	"errors"
	"fmt"
	"strings"
)

// exitCode is the process exit status.
type exitCode int

// Exit codes, the same for every subcommand.
const (
	exitOK      exitCode = 0 // success
	exitRuntime exitCode = 1 // the work failed: bad file, model, runtime
	exitUsage   exitCode = 2 // bad flags or arguments
	exitFailed  exitCode = 3 // a threshold was not met
)

// usageError marks an error in the command line; it exits with exitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// codeOf maps an error to its exit code.
func codeOf(err error) exitCode {
	if err == nil {
		return exitOK
	}
	var u usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	var f failedError
	if errors.As(err, &f) {
		return exitFailed
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least"} {
		if strings.HasPrefix(msg, p) {
			return exitUsage
		}
	}
	return exitRuntime
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
