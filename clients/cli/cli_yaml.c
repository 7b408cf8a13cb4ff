/*
 * cli_yaml — a JSON value written as YAML, for `-o yaml`.
 *
 * Debian 12 has libyaml, but its emitter wants an event per node and still
 * leaves every quoting decision to us; what -o yaml needs is small: block
 * mappings and sequences (kubectl's layout: "- " items at their parent's
 * indentation), plain scalars where a YAML 1.1 or 1.2 reader would read
 * them back as the same string, and JSON-style double quotes everywhere
 * else (valid YAML, with the same escapes). Empty containers are flow
 * style ({} and []), since block style cannot write them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/* Words YAML 1.1 reads as booleans or null. */
static const char *const yaml_reserved[] = {"true", "false", "yes",  "no", "on", "off",
                                            "y",    "n",     "null", "~",  NULL};

static bool yaml_looks_numeric(const char *s)
{
	const char *p = s;
	if (*p == '+' || *p == '-' || *p == '.')
		p++;
	return isdigit((unsigned char)*p) || strcasecmp(p, "inf") == 0 || strcasecmp(p, "nan") == 0 ||
	       strcasecmp(s, ".inf") == 0 || strcasecmp(s, ".nan") == 0;
}

/* A plain scalar: starts with a letter, digit-free start, no character
 * that means something in YAML, no ": " or " #", no edge spaces. */
static bool yaml_plain_ok(const char *s)
{
	if (s[0] == '\0' || yaml_looks_numeric(s))
		return false;
	for (const char *const *r = yaml_reserved; *r; r++)
		if (strcasecmp(s, *r) == 0)
			return false;
	if (!isalpha((unsigned char)s[0]) && s[0] != '_' && s[0] != '/' && (unsigned char)s[0] < 0x80)
		return false;
	size_t n = strlen(s);
	if (s[n - 1] == ' ' || s[n - 1] == ':')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || strchr("\"'#`{}[],&*!|>%@\\", *p) != NULL)
			return false;
		if (*p == ':' && p[1] == ' ')
			return false;
		if (*p == ' ' && p[1] == '#')
			return false;
	}
	return true;
}

static void yaml_string(FILE *f, const char *s)
{
	if (yaml_plain_ok(s)) {
		fputs(s, f);
		return;
	}
	/* jansson's JSON string encoding is a valid YAML double-quoted scalar */
	json_t *j = json_string(s);
	char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	fputs(text ? text : "\"\"", f);
	free(text);
	json_decref(j);
}

static void yaml_scalar(FILE *f, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		yaml_string(f, json_string_value(v));
		break;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL: {
		char *text = json_dumps(v, JSON_ENCODE_ANY);
		fputs(text ? text : "0", f);
		free(text);
		break;
	}
	case JSON_TRUE:
		fputs("true", f);
		break;
	case JSON_FALSE:
		fputs("false", f);
		break;
	case JSON_OBJECT:
		fputs("{}", f);
		break;
	case JSON_ARRAY:
		fputs("[]", f);
		break;
	default:
		fputs("null", f);
	}
}

static bool yaml_is_block(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) > 0) || (json_is_array(v) && json_array_size(v) > 0);
}

static void yaml_node(FILE *f, const json_t *v, int indent, bool inline_first);

/* The members of an object at indent; the first may continue a "- " line. */
static void yaml_object(FILE *f, const json_t *v, int indent, bool inline_first)
{
	const char *key;
	json_t *val;
	bool first = true;
	json_object_foreach((json_t *)v, key, val)
	{
		if (!(first && inline_first))
			fprintf(f, "%*s", indent, "");
		first = false;
		yaml_string(f, key);
		fputc(':', f);
		if (json_is_object(val) && yaml_is_block(val)) {
			fputc('\n', f);
			yaml_node(f, val, indent + 2, false);
		} else if (json_is_array(val) && yaml_is_block(val)) {
			fputc('\n', f);
			yaml_node(f, val, indent, false); /* kubectl: items at the key's indentation */
		} else {
			fputc(' ', f);
			yaml_scalar(f, val);
			fputc('\n', f);
		}
	}
}

static void yaml_array(FILE *f, const json_t *v, int indent, bool inline_first)
{
	size_t i;
	json_t *item;
	json_array_foreach(v, i, item)
	{
		if (!(i == 0 && inline_first))
			fprintf(f, "%*s", indent, "");
		fputs("- ", f);
		if (yaml_is_block(item)) {
			yaml_node(f, item, indent + 2, true);
		} else {
			yaml_scalar(f, item);
			fputc('\n', f);
		}
	}
}

static void yaml_node(FILE *f, const json_t *v, int indent, bool inline_first)
{
	if (json_is_object(v) && yaml_is_block(v))
		yaml_object(f, v, indent, inline_first);
	else if (json_is_array(v) && yaml_is_block(v))
		yaml_array(f, v, indent, inline_first);
	else {
		yaml_scalar(f, v);
		fputc('\n', f);
	}
}

void cli_yaml_write(FILE *f, const json_t *v)
{
	yaml_node(f, v, 0, false);
}
