/*
 * gw_web_ — the analyst page's files, served by the gateway's listener.
 *
 * The page (clients/web) and vis-timeline (from the npm registry) are built
 * into BIN/web by `make web`; nothing is fetched when the page runs. The
 * files are read once at start into nng static handlers: a fixed list of
 * names, so no request path ever reaches the file system (nng's directory
 * handler would map "/web/../x" and query strings onto paths).
 *
 * Where the files are: --web-root DIR, else next to the program
 * (BIN/web, the build's layout) or in ../share/annals/web (make install's).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "server/gateway.h"

static const struct {
	const char *name, *type;
} web_files[] = {
    {"index.html", "text/html; charset=utf-8"},
    {"app.js", "text/javascript; charset=utf-8"},
    {"style.css", "text/css; charset=utf-8"},
    {"vis-timeline-graph2d.min.js", "text/javascript; charset=utf-8"},
    {"vis-timeline-graph2d.min.css", "text/css; charset=utf-8"},
};

static bool web_has_page(const char *dir)
{
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s/index.html", dir);
	return access(p, R_OK) == 0;
}

/* --web-root, else the first default place holding a page; NULL: none */
static const char *web_find(const char *root, char *buf, size_t len)
{
	if (root != NULL)
		return web_has_page(root) ? root : NULL;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/web", exe) < len && web_has_page(buf))
		return buf;
	if ((size_t)snprintf(buf, len, "%s/../share/annals/web", exe) < len && web_has_page(buf))
		return buf;
	return NULL;
}

static int web_static(nng_http_server *hs, const char *uri, const void *data, size_t len, const char *type)
{
	nng_http_handler *h;
	int rv = nng_http_handler_alloc_static(&h, uri, data, len, type);
	if (rv == 0 && (rv = nng_http_server_add_handler(hs, h)) != 0)
		nng_http_handler_free(h);
	return rv;
}

int gw_web_add(nng_http_server *hs, const char *root)
{
	char buf[PATH_MAX];
	const char *dir = web_find(root, buf, sizeof(buf));
	if (dir == NULL) {
		static const char none[] =
		    "The annals web page is not built here. Run `make web` (it needs npm), or give annalsd "
		    "--web-root DIR.\nThe JSON API is at POST /v1/{Method}.\n";
		log_msg(LOG_WARN, "web_page",
		        "root=%s problem=\"no index.html there\" hint=\"run make web, or give --web-root "
		        "DIR\"",
		        root ? root : "(default)");
		return web_static(hs, "/", none, sizeof(none) - 1, "text/plain; charset=utf-8");
	}
	for (size_t i = 0; i < sizeof(web_files) / sizeof(web_files[0]); i++) {
		char path[PATH_MAX + 64], uri[96];
		snprintf(path, sizeof(path), "%s/%s", dir, web_files[i].name);
		size_t len = 0;
		char *data = file_read_all(path, 16u << 20, &len);
		if (data == NULL) {
			log_msg(LOG_WARN, "web_page",
			        "file=%s problem=\"cannot read it\" hint=\"run make web\"", path);
			continue;
		}
		bool index = strcmp(web_files[i].name, "index.html") == 0;
		snprintf(uri, sizeof(uri), "/web/%s", web_files[i].name);
		int rv = web_static(hs, index ? "/" : uri, data, len, web_files[i].type);
		free(data);
		if (rv != 0)
			return rv;
	}
	log_msg(LOG_INFO, "web_page", "root=%s", dir);
	return 0;
}
