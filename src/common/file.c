/* file_ — see file.h. */
#include "common/file.h"

#include <stdio.h>
#include <stdlib.h>

char *file_read_all(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	while (buf != NULL) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap || n > max)
			break;
		cap *= 2;
		char *grown = realloc(buf, cap + 1);
		if (grown == NULL) {
			free(buf);
			buf = NULL;
		}
		buf = grown;
	}
	int failed = ferror(f);
	fclose(f);
	if (buf == NULL || failed || n > max) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}
