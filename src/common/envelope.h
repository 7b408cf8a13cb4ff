/*
 * env_ — the Call/Reply envelope and the method table.
 *
 * Methods are looked up by name in the ProtobufCServiceDescriptor that
 * protoc-c generates from `service Annals` (their index is the same as in
 * include/annals/methods.h); what a method *is* comes from the method
 * table's flags (ANNALS_M_*), never from its name.
 */
#ifndef ANNALS_COMMON_ENVELOPE_H
#define ANNALS_COMMON_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "annals/methods.h"
#include "annals/v1/rpc.pb-c.h"
#include "annals/v1/service.pb-c.h"

#define ENV_METHOD_PREFIX "annals.v1.Annals/"

/* The service descriptor (annals__v1__annals__descriptor). */
const ProtobufCServiceDescriptor *env_service(void);

/* Index of "annals.v1.Annals/GetEntity" or "GetEntity"; -1 when unknown. */
int env_method_index(const char *method);
const ProtobufCMethodDescriptor *env_method(int index);
/* The method's ANNALS_M_* flags from the method table; 0 for an unknown index. */
unsigned env_method_flags(int index);
/* flags & ANNALS_M_WRITE: the call changes the store. */
bool env_method_is_write(int index);
/* The name of one ANNALS_M_* bit ("read", "write", "admin", "no-token",
 * "cacheable", "long-poll"); NULL for a bit that is not one. */
const char *env_flag_name(unsigned bit);

/* A Reply is packed by hand so that a reply body can be written straight
 * into the outgoing buffer (or copied from LMDB) without an extra pack:
 * env_reply_head_size() bytes of head, then exactly body_len bytes of body. */
size_t env_reply_head_size(int code, const char *message, size_t body_len);
size_t env_reply_head_write(uint8_t *out, int code, const char *message, size_t body_len);

#endif
