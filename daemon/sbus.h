/* sbus.h — sekishod's own D-Bus message codec: build, marshal, parse, validate and read messages of the D-Bus wire format (no libdbus, and none of the libraries it pulls in). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest message sekishod sends or accepts (the system bus's default
 * max_message_size; an ApplyPolicy carries at most 4 MiB). */
#define SBUS_MAX_MESSAGE (32u * 1024 * 1024)

enum sbus_type {
        SBUS_CALL = 1,
        SBUS_RETURN = 2,
        SBUS_ERROR = 3,
        SBUS_SIGNAL = 4,
};

#define SBUS_FLAG_NO_REPLY 0x1u
#define SBUS_FLAG_NO_AUTO_START 0x2u
#define SBUS_FLAG_INTERACTIVE 0x4u     /* ALLOW_INTERACTIVE_AUTHORIZATION */

struct sbus_msg;

/* ---- names (the D-Bus specification's rules) ---- */
bool sbus_path_valid(const char *s);
bool sbus_interface_valid(const char *s);    /* also error names */
bool sbus_member_valid(const char *s);
bool sbus_bus_name_valid(const char *s);     /* unique (":1.5") or well-known */
/* A signature: at most 255 characters, nesting at most 32 arrays and 32
 * structs (64 in all), dict entries only as array elements with a basic key;
 * single: exactly one complete type (a variant's). */
bool sbus_signature_valid(const char *s, bool single);
bool sbus_utf8_valid(const char *s, size_t len);   /* UTF-8 without NUL, no surrogates or overlongs */

/* ---- building ----
 * Constructors return NULL when out of memory or when a name is not valid
 * (dest and iface may be NULL). A new message has no serial; the connection
 * gives it one when it sends it. */
struct sbus_msg *sbus_call_new(const char *dest, const char *path, const char *iface, const char *member);
struct sbus_msg *sbus_signal_new(const char *path, const char *iface, const char *member);
/* Replies to call: reply serial and destination (the call's sender) set. */
struct sbus_msg *sbus_return_new(const struct sbus_msg *call);
/* An error reply; a name that is not valid becomes org.freedesktop.DBus.Error.Failed;
 * text (may be NULL) is sent as its one string argument, bytes that are not
 * valid UTF-8 replaced by '?'. */
struct sbus_msg *sbus_error_new(const struct sbus_msg *call, const char *name, const char *text);
struct sbus_msg *sbus_msg_ref(struct sbus_msg *m);
/* Accepts NULL; returns NULL. */
struct sbus_msg *sbus_msg_unref(struct sbus_msg *m);

void sbus_msg_set_flags(struct sbus_msg *m, unsigned flags);

/* Append values at the end of the body (or of the open container). types is
 * a string of basic type codes, one per value:
 *   y uint8_t (passed as int)   b bool (passed as int, any non-zero is true)
 *   n int16_t (int)  q uint16_t (int/unsigned)  i int32_t  u uint32_t
 *   x int64_t  t uint64_t  d double  s o g const char *
 *   "ay" two arguments: const void *, size_t (an array of bytes in one go)
 * Strings are checked (s: valid UTF-8; o: an object path; g: a signature).
 * Errors are sticky: after the first failure every later append, open and
 * close on m fails with the same error, and sbus_msg_seal refuses m.
 * -EINVAL: a value the type does not allow, or a type the open container's
 * signature does not expect next; -ENOMEM; -E2BIG: over SBUS_MAX_MESSAGE. */
int sbus_append(struct sbus_msg *m, const char *types, ...);
/* Append one string (s), with the bytes that are not valid UTF-8 (and NUL
 * cannot occur) replaced by '?'. NULL appends "". */
int sbus_append_text(struct sbus_msg *m, const char *s);
/* Open a container: 'a' (contents = the element's signature, e.g. "{ss}"),
 * '(' (contents = the members' signature, "ssa{ss}"), '{' (contents = key
 * and value, "sv"; only inside an array of dict entries) or 'v' (contents =
 * one complete type). Nesting as sbus_signature_valid allows. */
int sbus_open(struct sbus_msg *m, char type, const char *contents);
/* Close the innermost open container (a struct, dict entry or variant must
 * be complete; an array may be empty). */
int sbus_close(struct sbus_msg *m);
/* The sticky error of the building (0 if none). */
int sbus_msg_error(const struct sbus_msg *m);

/* ---- the wire ---- */

/* Give m its serial and lay out its bytes, little-endian; then m cannot be
 * appended to. -EINVAL when m has an open container or a sticky error, or
 * its type lacks a required field, or m was parsed; -E2BIG. Sealing again
 * with another serial is allowed (a message sent twice). */
int sbus_msg_seal(struct sbus_msg *m, uint32_t serial);
/* A sender field (NULL: none) for the next sealing of a message built here:
 * the bus sets it, only tests and the fuzzer use that. -EINVAL for a name
 * that is not valid or a parsed message. */
int sbus_msg_set_sender(struct sbus_msg *m, const char *sender);
/* The bytes of a sealed or parsed message. */
void sbus_msg_bytes(const struct sbus_msg *m, const void **ret, size_t *ret_size);

/* How many bytes the message that starts at p needs in all, from its first
 * 16 bytes: 0 when n < 16 (read more); -EBADMSG when those bytes are not
 * the start of a message (endianness 'l' or 'B', version 1, type 1..4) or it
 * would be longer than SBUS_MAX_MESSAGE. */
ssize_t sbus_msg_size(const void *p, size_t n);
/* A message from exactly size bytes at p (copied): either endianness. Every
 * part is validated: the header fields (known codes with their types, the
 * ones the type requires, unknown codes skipped), padding bytes zero,
 * booleans 0 or 1, strings UTF-8 without NUL and NUL-terminated, object
 * paths and signatures valid, arrays within their lengths (at most 64 MiB,
 * elements aligned), variants holding one complete type, nesting at most 64
 * (arrays, structs and variants together), the body exactly its length.
 * -EBADMSG for anything else; -ENOMEM. Messages with unix fds
 * (the UNIX_FDS field > 0) are refused: -EBADMSG. */
int sbus_msg_parse(const void *p, size_t size, struct sbus_msg **ret);

/* ---- the header ---- */
enum sbus_type sbus_msg_type(const struct sbus_msg *m);
unsigned sbus_msg_flags(const struct sbus_msg *m);
uint32_t sbus_msg_serial(const struct sbus_msg *m);          /* 0 before sealing */
uint32_t sbus_msg_reply_serial(const struct sbus_msg *m);    /* 0 if none */
/* NULL when absent. Valid as long as m. */
const char *sbus_msg_path(const struct sbus_msg *m);
const char *sbus_msg_interface(const struct sbus_msg *m);
const char *sbus_msg_member(const struct sbus_msg *m);
const char *sbus_msg_error_name(const struct sbus_msg *m);
const char *sbus_msg_destination(const struct sbus_msg *m);
const char *sbus_msg_sender(const struct sbus_msg *m);
/* The body's signature ("" when none). */
const char *sbus_msg_signature(const struct sbus_msg *m);
bool sbus_msg_is(const struct sbus_msg *m, enum sbus_type type, const char *iface, const char *member);

/* ---- reading a parsed (or sealed) message ----
 * A read cursor starts at the first argument of the body. */
void sbus_rewind(struct sbus_msg *m);
/* Read values at the cursor: types as for sbus_append, each with a pointer
 * to where the value goes (y uint8_t*, b bool*, n int16_t*, q uint16_t*,
 * i int32_t*, u uint32_t*, x int64_t*, t uint64_t*, d double*, s o g
 * const char ** (into m), "ay" const void ** and size_t *). All or nothing:
 * -ENXIO when the container ends first, -EBADMSG when a type differs; the
 * cursor then stays where it was. */
int sbus_read(struct sbus_msg *m, const char *types, ...);
/* The type at the cursor ('a', '(', '{', 'v' or a basic code) and, for a
 * container, its contents signature (as sbus_open takes it; valid until the
 * next call on m): 0 at the end of the open container. Either pointer may
 * be NULL. */
int sbus_peek(struct sbus_msg *m, char *ret_type, const char **ret_contents);
/* Enter the container at the cursor if it is of type (and, when contents
 * is not NULL, has those contents): 1; 0 at the end of the open container;
 * -EBADMSG when something else is there. Inside an array, each element is
 * read in turn, and sbus_peek/sbus_read/sbus_enter give 0/-ENXIO after the
 * last one. */
int sbus_enter(struct sbus_msg *m, char type, const char *contents);
/* Leave the innermost entered container, skipping what is left of it:
 * the cursor moves past it. -EINVAL when none is entered. */
int sbus_exit(struct sbus_msg *m);
/* Skip one complete value at the cursor: 1; 0 at the end. */
int sbus_skip(struct sbus_msg *m);
