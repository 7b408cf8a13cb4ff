/*
 * env_ — the Call/Reply envelope and the method table.
 *
 * The method table is the ProtobufCServiceDescriptor that protoc-c
 * generates from `service Annals`: both the server's dispatch and the
 * client's stubs look methods up here, so there is no hand-kept list.
 */
#ifndef ANNALS_COMMON_ENVELOPE_H
#define ANNALS_COMMON_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "annals/v1/rpc.pb-c.h"
#include "annals/v1/service.pb-c.h"

#define ENV_METHOD_PREFIX "annals.v1.Annals/"

/* The service descriptor (annals__v1__annals__descriptor). */
const ProtobufCServiceDescriptor *env_service(void);

/* Index of "annals.v1.Annals/GetEntity" or "GetEntity"; -1 when unknown. */
int env_method_index(const char *method);
const ProtobufCMethodDescriptor *env_method(int index);
/* Writes change the store: Put*, Delete*, Batch. */
bool env_method_is_write(int index);

/* A Reply is packed by hand so that a reply body can be written straight
 * into the outgoing buffer (or copied from LMDB) without an extra pack:
 * env_reply_head_size() bytes of head, then exactly body_len bytes of body. */
size_t env_reply_head_size(int code, const char *message, size_t body_len);
size_t env_reply_head_write(uint8_t *out, int code, const char *message, size_t body_len);

#endif
