/* Status code names: the gRPC canonical set, shared by client and server. */
#include <ctype.h>
#include <stddef.h>
#include <strings.h>

#include "annals/annals.h"

static const char *const status_names[] = {
	"OK",
	"CANCELLED",
	"UNKNOWN",
	"INVALID_ARGUMENT",
	"DEADLINE_EXCEEDED",
	"NOT_FOUND",
	"ALREADY_EXISTS",
	"PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION",
	"ABORTED",
	"OUT_OF_RANGE",
	"UNIMPLEMENTED",
	"INTERNAL",
	"UNAVAILABLE",
	"DATA_LOSS",
	"UNAUTHENTICATED",
};

#define STATUS_COUNT ((int)(sizeof(status_names) / sizeof(status_names[0])))

const char *annals_status_name(int code)
{
	if (code < 0 || code >= STATUS_COUNT)
		return "UNKNOWN";
	return status_names[code];
}

int annals_status_from_name(const char *name)
{
	for (int i = 0; i < STATUS_COUNT; i++)
		if (strcasecmp(name, status_names[i]) == 0)
			return i;
	return -1;
}
