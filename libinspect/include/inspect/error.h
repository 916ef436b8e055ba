/*
 * The one error type of libinspect: every fallible call takes a struct
 * ins_error * out-parameter, returns -1 (or NULL) on failure and fills it with
 * an errno value and a one-line message that names the object and the reason.
 * The library never prints; callers decide how to show the message.
 */
#ifndef INSPECT_ERROR_H
#define INSPECT_ERROR_H

#define INS_ERROR_MSG_MAX 1024

struct ins_error {
	int code; /* errno value, 0 when unset */
	char msg[INS_ERROR_MSG_MAX];
};

/* Sets the error to CODE with a formatted message; returns -1. */
int ins_err(struct ins_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets the error to CODE with "message: strerror(CODE)"; returns -1. */
int ins_err_sys(struct ins_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "context: " to an already set message; returns -1. */
int ins_err_prefix(struct ins_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void ins_err_clear(struct ins_error *err);

#endif
