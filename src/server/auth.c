/*
 * Tokens and roles. A tokens file has one "role token" pair per line
 * (roles: reader, writer, admin; '#' starts a comment). With no tokens
 * configured every call is allowed (and annalsd refuses non-loopback
 * listeners unless --insecure). Tokens are compared in constant time and
 * never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "common/log.h"
#include "server/server.h"

enum { ROLE_READER = 1, ROLE_WRITER = 2, ROLE_ADMIN = 3 };

static int auth_role(const char *name)
{
	if (strcmp(name, "reader") == 0)
		return ROLE_READER;
	if (strcmp(name, "writer") == 0)
		return ROLE_WRITER;
	if (strcmp(name, "admin") == 0)
		return ROLE_ADMIN;
	return 0;
}

static int auth_add(srv_server *s, int role, const char *token)
{
	srv_token *grown = realloc(s->tokens, sizeof(*grown) * (size_t)(s->n_tokens + 1));
	if (grown == NULL)
		return -1;
	s->tokens = grown;
	s->tokens[s->n_tokens].role = role;
	s->tokens[s->n_tokens].token = strdup(token);
	if (s->tokens[s->n_tokens].token == NULL)
		return -1;
	s->n_tokens++;
	return 0;
}

static int auth_parse_line(srv_server *s, char *line, int lineno)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char role[32], token[512];
	int n = sscanf(line, "%31s %511s", role, token);
	if (n <= 0)
		return 0; /* blank or comment */
	int r = n == 2 ? auth_role(role) : 0;
	if (r == 0) {
		log_msg(LOG_ERROR, "tokens_file", "line=%d problem=\"expected 'reader|writer|admin TOKEN'\"",
		        lineno);
		return -1;
	}
	if (strlen(token) < 16) {
		log_msg(LOG_ERROR, "tokens_file", "line=%d problem=\"token shorter than 16 characters\"", lineno);
		return -1;
	}
	return auth_add(s, r, token);
}

int srv_auth_load(srv_server *s)
{
	if (s->cfg.tokens_file == NULL)
		return 0;
	FILE *f = fopen(s->cfg.tokens_file, "r");
	if (f == NULL) {
		log_msg(LOG_ERROR, "tokens_file", "path=%s problem=\"cannot open\"", s->cfg.tokens_file);
		return -1;
	}
	char line[600];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL)
		rc = auth_parse_line(s, line, ++lineno);
	fclose(f);
	if (rc == 0 && s->n_tokens == 0) {
		log_msg(LOG_ERROR, "tokens_file", "path=%s problem=\"no tokens in the file\"", s->cfg.tokens_file);
		return -1;
	}
	return rc;
}

/* Compares every byte of the longer string so timing does not reveal how
 * much of a token matched. */
static int auth_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t n = la > lb ? la : lb;
	unsigned diff = (unsigned)(la ^ lb);
	for (size_t i = 0; i < n; i++) {
		unsigned char ca = i < la ? (unsigned char)a[i] : 0;
		unsigned char cb = i < lb ? (unsigned char)b[i] : 0;
		diff |= (unsigned)(ca ^ cb);
	}
	return diff == 0;
}

/* The role a method's flags ask for: the one rule, from the method table. */
static int auth_role_needed(unsigned flags)
{
	if (flags & ANNALS_M_NO_TOKEN)
		return 0;
	if (flags & ANNALS_M_ADMIN)
		return ROLE_ADMIN;
	if (flags & ANNALS_M_WRITE)
		return ROLE_WRITER;
	return ROLE_READER;
}

int srv_auth_check(srv_server *s, const char *token, unsigned flags, const char **why)
{
	int needed = auth_role_needed(flags);
	/* NO_TOKEN (Health): liveness probes carry none, and it tells nothing
	 * but "serving" and a revision number. */
	if (s->n_tokens == 0 || needed == 0)
		return ANNALS_OK;
	if (token == NULL || token[0] == '\0') {
		*why = "token: required; pass --token or set ANNALS_TOKEN";
		return ANNALS_UNAUTHENTICATED;
	}
	int role = 0;
	for (int i = 0; i < s->n_tokens; i++) /* no early exit: constant time over the table */
		if (auth_equal(token, s->tokens[i].token) && s->tokens[i].role > role)
			role = s->tokens[i].role;
	if (role == 0) {
		*why = "token: not valid";
		return ANNALS_UNAUTHENTICATED;
	}
	if (role < needed) {
		*why = needed == ROLE_ADMIN ? "this method needs a token with the admin role"
		                            : "this token has the reader role; writes need writer or admin";
		return ANNALS_PERMISSION_DENIED;
	}
	return ANNALS_OK;
}

void srv_auth_free(srv_server *s)
{
	for (int i = 0; i < s->n_tokens; i++) {
		memset(s->tokens[i].token, 0, strlen(s->tokens[i].token));
		free(s->tokens[i].token);
	}
	free(s->tokens);
	s->tokens = NULL;
	s->n_tokens = 0;
}
