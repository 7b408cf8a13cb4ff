/* pbjson_ — protobuf-c <-> JSON by descriptor; see pbjson.h for why. */
#include "common/pbjson.h"
#include "common/utf8.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PJ_PATH_MAX 256

/* ---- shared helpers ---------------------------------------------------- */

/* Field storage sits at byte offsets inside the message struct. */
static void *pj_at(const ProtobufCMessage *m, unsigned offset)
{
	return (char *)m + offset;
}

static bool pj_is_oneof(const ProtobufCFieldDescriptor *f)
{
	return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

/* Strings and messages are pointers, so their presence is the pointer
 * itself; proto2/proto3-optional scalars carry a has_ flag instead. */
static bool pj_is_pointer_type(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_STRING || t == PROTOBUF_C_TYPE_MESSAGE;
}

static const char *pj_type_name(ProtobufCType t)
{
	static const char *const names[] = {
	    [PROTOBUF_C_TYPE_INT32] = "int32",       [PROTOBUF_C_TYPE_SINT32] = "sint32",
	    [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
	    [PROTOBUF_C_TYPE_SINT64] = "sint64",     [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
	    [PROTOBUF_C_TYPE_UINT32] = "uint32",     [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
	    [PROTOBUF_C_TYPE_UINT64] = "uint64",     [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
	    [PROTOBUF_C_TYPE_FLOAT] = "float",       [PROTOBUF_C_TYPE_DOUBLE] = "double",
	    [PROTOBUF_C_TYPE_BOOL] = "bool",         [PROTOBUF_C_TYPE_ENUM] = "enum",
	    [PROTOBUF_C_TYPE_STRING] = "string",     [PROTOBUF_C_TYPE_BYTES] = "bytes",
	    [PROTOBUF_C_TYPE_MESSAGE] = "message",
	};
	size_t i = (size_t)t;
	return i < sizeof(names) / sizeof(names[0]) && names[i] ? names[i] : "?";
}

/* Size of one element of a repeated field's C array (protobuf-c stores
 * enums and bools as 4-byte ints). */
static size_t pj_elt_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return 4;
	}
}

/* ---- base64 ------------------------------------------------------------ */

static const char pj_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes the padded standard base64 of b into out (4 * ceil(len / 3) bytes). */
static void pj_b64_encode(const uint8_t *b, size_t len, char *out)
{
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)b[i + 1] << 8;
		if (i + 2 < len)
			v |= b[i + 2];
		*out++ = pj_b64[v >> 18 & 63];
		*out++ = pj_b64[v >> 12 & 63];
		*out++ = i + 1 < len ? pj_b64[v >> 6 & 63] : '=';
		*out++ = i + 2 < len ? pj_b64[v & 63] : '=';
	}
}

/* Value of one base64 digit, either alphabet (the mapping allows both), or -1. */
static int pj_b64_digit(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decodes s (padding optional) into out, which has room for 3 * len / 4 + 3
 * bytes. Returns the decoded length, or -1 when s is not base64. */
static long pj_b64_decode(const char *s, size_t len, uint8_t *out)
{
	size_t n = len;
	while (n > 0 && len - n < 2 && s[n - 1] == '=')
		n--;
	if ((n < len && len % 4 != 0) || n % 4 == 1)
		return -1;
	uint32_t acc = 0;
	int bits = 0;
	long o = 0;
	for (size_t i = 0; i < n; i++) {
		int d = pj_b64_digit(s[i]);
		if (d < 0)
			return -1;
		acc = acc << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o;
}

/* ---- message -> JSON --------------------------------------------------- */

static json_t *pj_out_message(const ProtobufCMessage *m, int flags);

/* A JSON string for s; bytes that are not UTF-8 become U+FFFD so that the
 * output stays valid JSON rather than failing a whole reply. */
static json_t *pj_out_string(const char *s)
{
	if (s == NULL)
		return json_string("");
	size_t n = strlen(s);
	if (utf8_valid_n(s, n))
		return json_stringn_nocheck(s, n);
	char *fixed = malloc(n * 3 + 1);
	if (fixed == NULL)
		return NULL;
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(u + i, n - i);
		if (k == 0) {
			memcpy(fixed + o, "\xEF\xBF\xBD", 3);
			o += 3, i += 1;
		} else {
			memcpy(fixed + o, s + i, k);
			o += k, i += k;
		}
	}
	json_t *j = json_stringn_nocheck(fixed, o);
	free(fixed);
	return j;
}

static json_t *pj_out_bytes(const ProtobufCBinaryData *b)
{
	size_t n = (b->len + 2) / 3 * 4;
	char *s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	pj_b64_encode(b->data, b->len, s);
	json_t *j = json_stringn_nocheck(s, n);
	free(s);
	return j;
}

/* Doubles go out as numbers; the three non-finite values have no JSON
 * number, so the mapping spells them as strings. */
static json_t *pj_out_double(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

static json_t *pj_out_enum(const ProtobufCFieldDescriptor *f, int32_t v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
	/* proto3 enums are open: a value this build has no name for keeps its number */
	return ev ? json_string(ev->name) : json_integer(v);
}

/* 64-bit integers are strings so that JavaScript readers keep every digit. */
static json_t *pj_out_i64(int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_string(buf);
}

static json_t *pj_out_u64(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

/* One value of field f stored at p (a singular field or one array element). */
static json_t *pj_out_value(const ProtobufCFieldDescriptor *f, const void *p, int flags)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return pj_out_i64(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return pj_out_u64(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return pj_out_double(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return pj_out_double(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM:
		return pj_out_enum(f, *(const int32_t *)p);
	case PROTOBUF_C_TYPE_STRING:
		return pj_out_string(*(char *const *)p);
	case PROTOBUF_C_TYPE_BYTES:
		return pj_out_bytes(p);
	case PROTOBUF_C_TYPE_MESSAGE:
		return pj_out_message(*(ProtobufCMessage *const *)p, flags);
	}
	return NULL;
}

/* Whether the value at p is the proto3 default, i.e. not sent on the wire.
 * Floats compare with == 0 like protobuf-c's packer, so -0.0 counts too. */
static bool pj_is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p == 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p == 0;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return s == NULL || s[0] == '\0';
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)p == NULL;
	default:
		return pj_elt_size(f->type) == 8 ? *(const uint64_t *)p == 0 : *(const uint32_t *)p == 0;
	}
}

/* Whether field f of m is written. Oneof members and explicit-presence
 * fields follow their presence; proto3 plain fields their value. */
static bool pj_emitted(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int flags)
{
	const void *p = pj_at(m, f->offset);
	if (pj_is_oneof(f))
		return *(const uint32_t *)pj_at(m, f->quantifier_offset) == f->id;
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return true;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (pj_is_pointer_type(f->type))
			return *(void *const *)p != NULL;
		return *(const protobuf_c_boolean *)pj_at(m, f->quantifier_offset) != 0;
	case PROTOBUF_C_LABEL_REPEATED:
		return (flags & PBJSON_EMIT_DEFAULTS) || *(const size_t *)pj_at(m, f->quantifier_offset) > 0;
	case PROTOBUF_C_LABEL_NONE:
		break;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) /* absent is not a default to emit */
		return *(ProtobufCMessage *const *)p != NULL;
	return (flags & PBJSON_EMIT_DEFAULTS) || !pj_is_default(f, p);
}

static json_t *pj_out_repeated(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int flags)
{
	size_t n = *(const size_t *)pj_at(m, f->quantifier_offset);
	const char *items = *(char *const *)pj_at(m, f->offset);
	size_t sz = pj_elt_size(f->type);
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		if (json_array_append_new(arr, pj_out_value(f, items + i * sz, flags)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

static json_t *pj_out_message(const ProtobufCMessage *m, int flags)
{
	json_t *obj = json_object();
	if (obj == NULL || m == NULL) /* a set-but-NULL oneof message packs as empty */
		return obj;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!pj_emitted(m, f, flags))
			continue;
		json_t *v = f->label == PROTOBUF_C_LABEL_REPEATED
		                ? pj_out_repeated(m, f, flags)
		                : pj_out_value(f, pj_at(m, f->offset), flags);
		if (json_object_set_new(obj, f->name, v) != 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

json_t *pbjson_from_message(const ProtobufCMessage *m, int flags)
{
	return pj_out_message(m, flags);
}

char *pbjson_dumps(const ProtobufCMessage *m, int flags)
{
	json_t *j = pbjson_from_message(m, flags);
	if (j == NULL)
		return NULL;
	size_t jf = 0;
	if (flags & PBJSON_PRETTY)
		jf |= JSON_INDENT(2);
	if (flags & PBJSON_COMPACT)
		jf |= JSON_COMPACT;
	char *s = json_dumps(j, jf);
	json_decref(j);
	return s;
}

/* ---- JSON -> message --------------------------------------------------- */

/* The state of one conversion: where the output goes, where the error goes,
 * and the path of the value being read ("events[3].when"). */
typedef struct pj_in {
	ar_arena *a;
	char *err;
	size_t errlen;
	size_t plen;
	char path[PJ_PATH_MAX];
} pj_in;

/* An integer as read, before it is narrowed to the field's type: the sign
 * and the magnitude, so every int64 and uint64 value fits. */
typedef struct pj_wide {
	bool neg;
	uint64_t mag;
} pj_wide;

static int pj_fail(pj_in *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "path: reason" (or just the reason at the top) and returns -1. */
static int pj_fail(pj_in *c, const char *fmt, ...)
{
	if (c->errlen == 0)
		return -1;
	int n = c->plen ? snprintf(c->err, c->errlen, "%s: ", c->path) : 0;
	if (n < 0 || (size_t)n >= c->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends to the path (truncating, never overflowing); returns the old
 * length for pj_pop(). */
static size_t pj_push(pj_in *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t pj_push(pj_in *c, const char *fmt, ...)
{
	size_t old = c->plen;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->path + old, sizeof(c->path) - old, fmt, ap);
	va_end(ap);
	size_t room = sizeof(c->path) - 1 - old;
	c->plen = old + (n < 0 ? 0 : (size_t)n > room ? room : (size_t)n);
	c->path[c->plen] = '\0';
	return old;
}

static void pj_pop(pj_in *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static const char *pj_json_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

static int pj_wrong_type(pj_in *c, const char *expected, const json_t *v)
{
	return pj_fail(c, "expected %s, got %s", expected, pj_json_type(v));
}

/* Decimal digits with an optional '-': what a JSON integer in a string may
 * look like. 0: parsed; 1: not an integer; 2: too large for 64 bits. */
static int pj_scan_int(const char *s, size_t len, pj_wide *w)
{
	size_t i = 0;
	w->neg = len > 0 && s[0] == '-';
	i += w->neg;
	if (i == len)
		return 1;
	w->mag = 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 1;
		unsigned d = (unsigned)(s[i] - '0');
		if (w->mag > (UINT64_MAX - d) / 10)
			return 2;
		w->mag = w->mag * 10 + d;
	}
	return 0;
}

/* A JSON number or numeric string as a pj_wide; the type name is for the
 * out-of-range message. */
static int pj_read_wide(pj_in *c, const json_t *v, const char *type, pj_wide *w)
{
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		w->neg = x < 0;
		w->mag = x < 0 ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x;
		return 0;
	}
	if (json_is_real(v)) { /* 1e3 is an integer too */
		double x = json_real_value(v);
		if (x != floor(x))
			return pj_fail(c, "expected an integer, got %.15g", x);
		if (fabs(x) >= 18446744073709551616.0)
			return pj_fail(c, "%.15g is out of range for %s", x, type);
		w->neg = x < 0;
		w->mag = (uint64_t)fabs(x);
		return 0;
	}
	if (!json_is_string(v))
		return pj_wrong_type(c, "an integer", v);
	const char *s = json_string_value(v);
	int rc = pj_scan_int(s, json_string_length(v), w);
	if (rc == 1)
		return pj_wrong_type(c, "an integer", v);
	if (rc == 2)
		return pj_fail(c, "%.40s is out of range for %s", s, type);
	return 0;
}

/* Reads an integer that must fit in `bits` bits, signed or not. */
static int pj_read_int(pj_in *c, const json_t *v, ProtobufCType t, bool sign, int bits, pj_wide *w)
{
	if (pj_read_wide(c, v, pj_type_name(t), w) != 0)
		return -1;
	uint64_t max_pos = UINT64_MAX >> (64 - bits + (sign ? 1 : 0));
	uint64_t max_neg = sign ? max_pos + 1 : 0;
	if (w->neg ? w->mag > max_neg : w->mag > max_pos)
		return pj_fail(c, "%s%" PRIu64 " is out of range for %s", w->neg ? "-" : "", w->mag,
		               pj_type_name(t));
	return 0;
}

static int64_t pj_wide_signed(pj_wide w)
{
	/* -(2^63) has no positive counterpart; go through -(mag - 1) - 1 */
	return w.neg && w.mag ? -(int64_t)(w.mag - 1) - 1 : (int64_t)w.mag;
}

static int pj_in_int(pj_in *c, const ProtobufCFieldDescriptor *f, const json_t *v, void *dst)
{
	bool sign = f->type == PROTOBUF_C_TYPE_INT32 || f->type == PROTOBUF_C_TYPE_SINT32 ||
	            f->type == PROTOBUF_C_TYPE_SFIXED32 || f->type == PROTOBUF_C_TYPE_INT64 ||
	            f->type == PROTOBUF_C_TYPE_SINT64 || f->type == PROTOBUF_C_TYPE_SFIXED64;
	int bits = pj_elt_size(f->type) == 8 ? 64 : 32;
	pj_wide w = {0};
	if (pj_read_int(c, v, f->type, sign, bits, &w) != 0)
		return -1;
	if (bits == 64 && sign)
		*(int64_t *)dst = pj_wide_signed(w);
	else if (bits == 64)
		*(uint64_t *)dst = w.mag;
	else if (sign)
		*(int32_t *)dst = (int32_t)pj_wide_signed(w);
	else
		*(uint32_t *)dst = (uint32_t)w.mag;
	return 0;
}

/* A JSON string that holds a NUL: C functions on it would see a shorter
 * string, so "PRECISION_DAY\u0000x" must not pass for "PRECISION_DAY". */
static bool pj_has_nul(const json_t *v)
{
	return strlen(json_string_value(v)) != json_string_length(v);
}

/* Numbers, or strings: the mapping's "NaN"/"Infinity"/"-Infinity" and
 * decimal text. */
static int pj_read_double(pj_in *c, const json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (!json_is_string(v) || pj_has_nul(v))
		return pj_wrong_type(c, "a number", v);
	const char *s = json_string_value(v);
	if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
		*out = s[0] == 'N' ? NAN : s[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	/* strtod alone would also take " 1", "inf" and "nan(...)" */
	if (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
		char *end = NULL;
		*out = strtod(s, &end);
		if (*end == '\0' && isfinite(*out))
			return 0;
	}
	return pj_wrong_type(c, "a number", v);
}

static int pj_in_float(pj_in *c, const ProtobufCFieldDescriptor *f, const json_t *v, void *dst)
{
	double x = 0;
	if (pj_read_double(c, v, &x) != 0)
		return -1;
	if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
		*(double *)dst = x;
		return 0;
	}
	if (isfinite(x) && fabs(x) > FLT_MAX)
		return pj_fail(c, "%.15g is out of range for float", x);
	*(float *)dst = (float)x;
	return 0;
}

/* A name, or any int32 (proto3 enums are open, so unnamed numbers pass). */
static int pj_in_enum(pj_in *c, const ProtobufCFieldDescriptor *f, const json_t *v, void *dst)
{
	if (json_is_string(v) && !pj_has_nul(v)) {
		const char *name = json_string_value(v);
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, name);
		if (ev == NULL)
			return pj_fail(c, "unknown enum value \"%.64s\"", name);
		*(int32_t *)dst = ev->value;
		return 0;
	}
	if (json_is_string(v))
		return pj_fail(c, "unknown enum value (contains a NUL character)");
	if (!json_is_number(v))
		return pj_wrong_type(c, "an enum name or number", v);
	pj_wide w = {0};
	if (pj_read_int(c, v, PROTOBUF_C_TYPE_INT32, true, 32, &w) != 0)
		return -1;
	*(int32_t *)dst = (int32_t)pj_wide_signed(w);
	return 0;
}

/* protobuf strings must be UTF-8, and protobuf-c's are NUL-terminated, so
 * an embedded NUL would silently cut the value short. */
static int pj_in_string(pj_in *c, const json_t *v, void *dst)
{
	if (!json_is_string(v))
		return pj_wrong_type(c, "a string", v);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (memchr(s, '\0', n) != NULL)
		return pj_fail(c, "string contains a NUL character");
	if (!utf8_valid_n(s, n))
		return pj_fail(c, "string is not valid UTF-8");
	*(char **)dst = ar_strndup(c->a, s, n);
	return 0;
}

static int pj_in_bytes(pj_in *c, const json_t *v, void *dst)
{
	if (!json_is_string(v))
		return pj_wrong_type(c, "a base64 string", v);
	size_t n = json_string_length(v);
	ProtobufCBinaryData *b = dst;
	if (n == 0) {
		b->len = 0, b->data = NULL;
		return 0;
	}
	uint8_t *out = ar_alloc(c->a, n / 4 * 3 + 3);
	long got = pj_b64_decode(json_string_value(v), n, out);
	if (got < 0)
		return pj_fail(c, "invalid base64");
	b->len = (size_t)got, b->data = out;
	return 0;
}

static int pj_in_message(pj_in *c, const ProtobufCMessageDescriptor *d, const json_t *v,
                         ProtobufCMessage **out);

/* One value of field f from v into dst (a singular field or an element). */
static int pj_in_value(pj_in *c, const ProtobufCFieldDescriptor *f, const json_t *v, void *dst)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return pj_in_float(c, f, v, dst);
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return pj_wrong_type(c, "a boolean", v);
		*(protobuf_c_boolean *)dst = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		return pj_in_enum(c, f, v, dst);
	case PROTOBUF_C_TYPE_STRING:
		return pj_in_string(c, v, dst);
	case PROTOBUF_C_TYPE_BYTES:
		return pj_in_bytes(c, v, dst);
	case PROTOBUF_C_TYPE_MESSAGE:
		return pj_in_message(c, f->descriptor, v, dst);
	default:
		return pj_in_int(c, f, v, dst);
	}
}

/* An array into a protobuf-c repeated field: n_<field> and a C array of
 * exactly that many elements. Nulls inside the array are errors, as the
 * mapping has no "absent element". */
static int pj_in_repeated(pj_in *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const json_t *v)
{
	if (!json_is_array(v))
		return pj_wrong_type(c, "an array", v);
	size_t n = json_array_size(v);
	if (n == 0)
		return 0;
	size_t sz = pj_elt_size(f->type);
	char *items = ar_alloc(c->a, n * sz);
	for (size_t i = 0; i < n; i++) {
		size_t old = pj_push(c, "[%zu]", i);
		if (pj_in_value(c, f, json_array_get(v, i), items + i * sz) != 0)
			return -1;
		pj_pop(c, old);
	}
	*(size_t *)pj_at(m, f->quantifier_offset) = n;
	*(void **)pj_at(m, f->offset) = items;
	return 0;
}

/* A singular field, then its presence: the oneof case, or the has_ flag
 * of an explicit-presence scalar. */
static int pj_in_singular(pj_in *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const json_t *v)
{
	uint32_t *oneof_case = pj_is_oneof(f) ? pj_at(m, f->quantifier_offset) : NULL;
	if (oneof_case && *oneof_case != 0 && *oneof_case != f->id) {
		const ProtobufCFieldDescriptor *other =
		    protobuf_c_message_descriptor_get_field(m->descriptor, *oneof_case);
		return pj_fail(c, "conflicts with %s (same oneof)", other ? other->name : "another member");
	}
	if (pj_in_value(c, f, v, pj_at(m, f->offset)) != 0)
		return -1;
	if (oneof_case)
		*oneof_case = f->id;
	else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !pj_is_pointer_type(f->type))
		*(protobuf_c_boolean *)pj_at(m, f->quantifier_offset) = 1;
	return 0;
}

/* Whether key is the lowerCamelCase JSON name of the .proto name: each
 * '_' is dropped and the letter after it upper-cased, as protoc does. */
static bool pj_camel_eq(const char *name, const char *key)
{
	bool up = false;
	for (; *name; name++) {
		if (*name == '_') {
			up = true;
			continue;
		}
		char ch = up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
		up = false;
		if (*key++ != ch)
			return false;
	}
	return *key == '\0';
}

static const ProtobufCFieldDescriptor *pj_find_field(const ProtobufCMessageDescriptor *d, const char *key)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
	for (unsigned i = 0; f == NULL && i < d->n_fields; i++)
		if (pj_camel_eq(d->fields[i].name, key))
			f = &d->fields[i];
	return f;
}

/* One key of an object: find its field, refuse it twice (as snake and as
 * camel), skip null, then read it. */
static int pj_in_member(pj_in *c, ProtobufCMessage *m, unsigned char *seen, const char *key, const json_t *v)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCFieldDescriptor *f = pj_find_field(d, key);
	if (f == NULL)
		return pj_fail(c, "unknown field");
	size_t idx = (size_t)(f - d->fields);
	if (seen[idx])
		return pj_fail(c, "field %s given twice", f->name);
	seen[idx] = 1;
	if (json_is_null(v))
		return 0;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return pj_in_repeated(c, m, f, v);
	return pj_in_singular(c, m, f, v);
}

static int pj_in_message(pj_in *c, const ProtobufCMessageDescriptor *d, const json_t *v,
                         ProtobufCMessage **out)
{
	if (!json_is_object(v))
		return pj_wrong_type(c, "an object", v);
	ProtobufCMessage *m = ar_alloc(c->a, d->sizeof_message);
	protobuf_c_message_init(d, m);
	unsigned char *seen = ar_alloc(c->a, d->n_fields + 1);
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)v, key, val)
	{
		size_t old = pj_push(c, "%s%s", c->plen ? "." : "", key);
		if (pj_in_member(c, m, seen, key, val) != 0)
			return -1;
		pj_pop(c, old);
	}
	*out = m;
	return 0;
}

ProtobufCMessage *pbjson_to_message(const ProtobufCMessageDescriptor *d, json_t *j, ar_arena *a,
                                    const char *path, char *err, size_t errlen)
{
	pj_in c = {.a = a, .err = err, .errlen = err ? errlen : 0};
	pj_push(&c, "%s", path ? path : "");
	if (j == NULL) {
		pj_fail(&c, "no JSON value");
		return NULL;
	}
	ProtobufCMessage *m = NULL;
	return pj_in_message(&c, d, j, &m) == 0 ? m : NULL;
}

ProtobufCMessage *pbjson_parse(const ProtobufCMessageDescriptor *d, const char *text, size_t len, ar_arena *a,
                               char *err, size_t errlen)
{
	json_error_t e;
	/* duplicate keys would otherwise silently keep the last value */
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "%d:%d: %s", e.line, e.column, e.text);
		return NULL;
	}
	ProtobufCMessage *m = pbjson_to_message(d, j, a, "", err, errlen);
	json_decref(j);
	return m;
}
