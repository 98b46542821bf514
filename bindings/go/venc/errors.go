package venc

// #include <venc.h>
import "C"

import "fmt"

// Status codes of venc.h; they never change.
const (
	StatusOK             = int(C.VENC_OK)
	StatusAgain          = int(C.VENC_AGAIN)
	StatusEOF            = int(C.VENC_EOF)
	StatusNullArg        = int(C.VENC_ERR_NULL_ARG)
	StatusInvalidArg     = int(C.VENC_ERR_INVALID_ARG)
	StatusInvalidState   = int(C.VENC_ERR_INVALID_STATE)
	StatusUnsupported    = int(C.VENC_ERR_UNSUPPORTED)
	StatusUnknownKey     = int(C.VENC_ERR_UNKNOWN_KEY)
	StatusBadValue       = int(C.VENC_ERR_BAD_VALUE)
	StatusBufferTooSmall = int(C.VENC_ERR_BUFFER_TOO_SMALL)
	StatusNoMemory       = int(C.VENC_ERR_NO_MEMORY)
	StatusTimeout        = int(C.VENC_ERR_TIMEOUT)
	StatusBusy           = int(C.VENC_ERR_BUSY)
	StatusIO             = int(C.VENC_ERR_IO)
	StatusBackend        = int(C.VENC_ERR_BACKEND)
	StatusStructSize     = int(C.VENC_ERR_STRUCT_SIZE)
	StatusPanic          = int(C.VENC_ERR_PANIC)
	StatusPoisoned       = int(C.VENC_ERR_POISONED)
)

// Error is a libvenc status plus the sentence explaining it. errors.Is
// matches any *Error with the same Status, so the sentinels below work
// with wrapped errors too.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "venc: " + StatusString(e.Status)
	}
	return "venc: " + e.Msg
}

// Is reports whether target is an *Error with the same Status.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status
}

// Sentinels for errors.Is.
var (
	ErrAgain        = &Error{Status: StatusAgain, Msg: "try again: nothing ready yet, or the queue is full"}
	ErrEOF          = &Error{Status: StatusEOF, Msg: "end of stream"}
	ErrInvalidArg   = &Error{Status: StatusInvalidArg}
	ErrInvalidState = &Error{Status: StatusInvalidState}
	ErrUnsupported  = &Error{Status: StatusUnsupported}
	ErrUnknownKey   = &Error{Status: StatusUnknownKey}
	ErrBadValue     = &Error{Status: StatusBadValue}
)

// StatusString is the library's static description of a status code.
func StatusString(status int) string {
	return C.GoString(C.venc_status_str(C.venc_status(status)))
}

func newError(status int, msg string) *Error {
	if msg == "" {
		msg = StatusString(status)
	}
	return &Error{Status: status, Msg: msg}
}

func errClosed(what string) *Error {
	return &Error{Status: StatusInvalidState, Msg: fmt.Sprintf("%s is closed", what)}
}
