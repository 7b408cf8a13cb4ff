/* env_ — see envelope.h. */
#include "common/envelope.h"

#include <string.h>

const ProtobufCServiceDescriptor *env_service(void)
{
	return &annals__v1__annals__descriptor;
}

int env_method_index(const char *method)
{
	if (method == NULL)
		return -1;
	size_t plen = strlen(ENV_METHOD_PREFIX);
	if (strncmp(method, ENV_METHOD_PREFIX, plen) == 0)
		method += plen;
	const ProtobufCMethodDescriptor *m =
		protobuf_c_service_descriptor_get_method_by_name(env_service(), method);
	if (m == NULL)
		return -1;
	return (int)(m - env_service()->methods);
}

const ProtobufCMethodDescriptor *env_method(int index)
{
	if (index < 0 || (unsigned)index >= env_service()->n_methods)
		return NULL;
	return &env_service()->methods[index];
}

static const unsigned env_flags[ANNALS_METHOD_COUNT] = {
#define ENV_FLAGS_ROW(M, fn, Req, Rep, flags, impl, record) [ANNALS_METHOD_##M] = (flags),
	ANNALS_METHODS(ENV_FLAGS_ROW)
#undef ENV_FLAGS_ROW
};

unsigned env_method_flags(int index)
{
	if (index < 0 || index >= ANNALS_METHOD_COUNT)
		return 0;
	return env_flags[index];
}

bool env_method_is_write(int index)
{
	return (env_method_flags(index) & ANNALS_M_WRITE) != 0;
}

const char *env_flag_name(unsigned bit)
{
	switch (bit) {
	case ANNALS_M_READ: return "read";
	case ANNALS_M_WRITE: return "write";
	case ANNALS_M_ADMIN: return "admin";
	case ANNALS_M_NO_TOKEN: return "no-token";
	case ANNALS_M_CACHEABLE: return "cacheable";
	case ANNALS_M_LONG_POLL: return "long-poll";
	default: return NULL;
	}
}

static size_t env_varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t env_varint_write(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* Field numbers of annals.v1.Reply: 1 code (varint), 2 message, 3 body. */
size_t env_reply_head_size(int code, const char *message, size_t body_len)
{
	size_t n = 0;
	if (code != 0)
		n += 1 + env_varint_size((uint64_t)(int64_t)code); /* int32: sign-extended */
	size_t mlen = message ? strlen(message) : 0;
	if (mlen)
		n += 1 + env_varint_size(mlen) + mlen;
	if (body_len)
		n += 1 + env_varint_size(body_len);
	return n;
}

size_t env_reply_head_write(uint8_t *out, int code, const char *message, size_t body_len)
{
	size_t n = 0;
	if (code != 0) {
		out[n++] = (1 << 3) | 0;
		n += env_varint_write(out + n, (uint64_t)(int64_t)code);
	}
	size_t mlen = message ? strlen(message) : 0;
	if (mlen) {
		out[n++] = (2 << 3) | 2;
		n += env_varint_write(out + n, mlen);
		memcpy(out + n, message, mlen);
		n += mlen;
	}
	if (body_len) {
		out[n++] = (3 << 3) | 2;
		n += env_varint_write(out + n, body_len);
	}
	return n;
}
