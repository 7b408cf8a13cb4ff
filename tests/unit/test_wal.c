/*
 * The write-ahead log's contract (src/store/wal.h), on a real LMDB store
 * in a fresh directory per test, written by a child process that ends with
 * _exit() and no close: what a crash leaves behind.
 *
 *   - a crash of the process: the machine's page cache kept everything, so
 *     the next open keeps the data file as it is, and every table of the
 *     store (records, indexes, change log, request log, revision) hashes
 *     exactly as the crashed process saw it;
 *   - a power cut (a checkpoint file written in another boot, as after a
 *     restart of the machine): pages written after the last checkpoint
 *     never reached the disk and both meta pages are garbage; the open goes
 *     back to the checkpoint and redoes the log, and the store hashes as
 *     before (as a control, it does not open without the checkpoint);
 *   - going back to a checkpoint is refused while another process has the
 *     store open (LMDB's lock file would go on naming the lost commits);
 *   - a redo that spans several segments (checkpoints whose file could not
 *     be written keep the segments they would have deleted);
 *   - a record torn by the power cut: the writes before it stay, its own go;
 *   - a damaged record with answered records after it: the open refuses
 *     with DATA_LOSS instead of dropping them;
 *   - a checkpoint of another data file (one restored in its place) is
 *     neither applied to it nor deleted: the open says what to do;
 *   - a second open of the same directory is refused while the first lasts;
 *   - a clean close leaves no log and no checkpoint.
 */
#include <dirent.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/check.h"
#include "annals/annals.h"
#include "common/hash.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/wal.h"

/* LMDB 0.9's meta page: the txn id and last page sit after the page header. */
#define META_LAST_PG_AT 136u
#define META_TXNID_AT   144u

static char dir[64];

static void fresh_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/annals-wal-XXXXXX");
	if (mkdtemp(dir) == NULL)
		exit(2);
}

static void remove_dir(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	char path[400];
	while (dd && (e = readdir(dd)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
		unlink(path);
	}
	if (dd)
		closedir(dd);
	rmdir(d);
}

static st_store *open_store(const char *d, st_err *err)
{
	st_options opt = {0};
	opt.checkpoint_ms = 600000; /* checkpoints only where a test makes them */
	st_store *s = NULL;
	memset(err, 0, sizeof(*err));
	return st_open(d, &opt, &s, err) == ANNALS_OK ? s : NULL;
}

/* Puts entity person:wal-<i> with a summary that names round r. */
static int put_entity(st_store *s, int i, int r, const char *request_id)
{
	char id[64], summary[64];
	snprintf(id, sizeof(id), "person:wal-%d", i);
	snprintf(summary, sizeof(summary), "round %d of entity %d", r, i);
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = id;
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	e.summary = summary;
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = &e;
	st_write w = {0};
	w.req = &req.base;
	w.op = ST_PUT;
	w.kind = ST_ENTITY;
	w.request_id = request_id;
	int rc = st_apply(s, &w, 1);
	int code = rc == ANNALS_OK ? w.code : rc;
	st_write_clear(&w);
	return code;
}

/* The summary of person:wal-<i>, or "" when it is not there. */
static void summary_of(st_store *s, int i, char *out, size_t n)
{
	char id[64];
	snprintf(id, sizeof(id), "person:wal-%d", i);
	out[0] = '\0';
	st_txn *t = st_txn_new(s);
	const uint8_t *data;
	size_t len;
	if (t != NULL && st_txn_begin(t) == ANNALS_OK && st_get(t, ST_ENTITY, id, &data, &len) == ANNALS_OK) {
		Annals__V1__Entity *e = annals__v1__entity__unpack(NULL, len, data);
		if (e != NULL) {
			snprintf(out, n, "%s", e->summary ? e->summary : "");
			annals__v1__entity__free_unpacked(e, NULL);
		}
	}
	st_txn_free(t);
}

/* Every key and value of every table, hashed: the whole state a redo must give. */
static uint64_t hash_store(st_store *s)
{
	uint64_t h = HASH_FNV1A_INIT;
	MDB_txn *txn;
	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != MDB_SUCCESS)
		return 0;
	for (int d = 0; d < DB_COUNT; d++) {
		MDB_cursor *c;
		MDB_val k, v;
		if (mdb_cursor_open(txn, s->dbi[d], &c) != MDB_SUCCESS)
			continue;
		h = hash_fnv1a(h, &d, sizeof(d));
		for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			h = hash_fnv1a(h, k.mv_data, k.mv_size);
			h = hash_fnv1a(h, v.mv_data, v.mv_size);
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	return h;
}

/*
 * The child: opens the store, puts entities 0..before-1 (round 1), makes a
 * checkpoint, puts entities before..before+after-1 and rewrites entity 0
 * (round 2), all through the log, then writes the store's hash and the
 * checkpoint's txn to fd and dies without closing anything.
 */
static void crash_child(int before, int after, int fd)
{
	st_err err;
	st_store *s = open_store(dir, &err);
	if (s == NULL) {
		fprintf(stderr, "child: %s\n", err.msg);
		_exit(3);
	}
	for (int i = 0; i < before; i++)
		if (put_entity(s, i, 1, NULL) != ANNALS_OK)
			_exit(4);
	if (ckp_now(s, &err) != ANNALS_OK)
		_exit(5);
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	uint64_t ckp = (uint64_t)info.me_last_txnid;
	for (int i = before; i < before + after; i++) {
		char rid[32];
		snprintf(rid, sizeof(rid), "rid-%d", i); /* the request log is redone too */
		if (put_entity(s, i, 1, rid) != ANNALS_OK)
			_exit(6);
	}
	if (after > 0 && put_entity(s, 0, 2, NULL) != ANNALS_OK)
		_exit(7);
	uint64_t out[2] = {hash_store(s), ckp};
	if (write(fd, out, sizeof(out)) != (ssize_t)sizeof(out))
		_exit(8);
	_exit(0);
}

static int other_boot(void);

/*
 * The child of the segments test: checkpoints that cannot write their file
 * (DIR/checkpoint.tmp is a directory) still start a new segment each, so
 * the log the next open redoes spans several files.
 */
static void segments_child(int fd)
{
	st_err err;
	st_store *s = open_store(dir, &err);
	if (s == NULL)
		_exit(3);
	for (int i = 0; i < 5; i++)
		if (put_entity(s, i, 1, NULL) != ANNALS_OK)
			_exit(4);
	if (ckp_now(s, &err) != ANNALS_OK)
		_exit(5);
	char tmp[200];
	snprintf(tmp, sizeof(tmp), "%s/checkpoint.tmp", dir);
	if (mkdir(tmp, 0700) != 0)
		_exit(6);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 4; i++)
			if (put_entity(s, 10 * round + i, 2 + round, NULL) != ANNALS_OK)
				_exit(7);
		if (ckp_now(s, &err) == ANNALS_OK) /* its file cannot be written */
			_exit(8);
	}
	uint64_t out[2] = {hash_store(s), 0};
	if (write(fd, out, sizeof(out)) != (ssize_t)sizeof(out))
		_exit(9);
	_exit(0);
}

/* Runs child in a process of its own; *hash and *extra get the two
 * numbers it writes. 0 when it ran to its end. */
static int run_child(void (*child)(int), uint64_t *hash, uint64_t *extra)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(p[1]);
	}
	close(p[1]);
	uint64_t in[2] = {0, 0};
	ssize_t n = read(p[0], in, sizeof(in));
	close(p[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	*hash = in[0];
	*extra = in[1];
	return n == (ssize_t)sizeof(in) && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int count_segments(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "wal-", 4) == 0;
	if (d)
		closedir(d);
	return n;
}

static void test_redo_spans_segments(void)
{
	fresh_dir();
	uint64_t hash = 0, unused = 0;
	CHECK(run_child(segments_child, &hash, &unused) == 0);
	CHECK_EQ_INT(count_segments(), 4); /* the checkpoint's own, then one per failed one */
	char tmp[200];
	snprintf(tmp, sizeof(tmp), "%s/checkpoint.tmp", dir);
	CHECK(rmdir(tmp) == 0);
	CHECK(other_boot() == 0); /* back to the first checkpoint, all four redone */
	st_err err;
	st_store *s = open_store(dir, &err);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK(hash_store(s) == hash);
		char sum[64];
		summary_of(s, 21, sum, sizeof(sum));
		CHECK_EQ_STR(sum, "round 4 of entity 21");
		CHECK_EQ_INT(atomic_load(&s->revision), 5 + 12);
		CHECK_EQ_INT(count_segments(), 1); /* this run's, after its first checkpoint */
		st_close(s);
	}
	CHECK_EQ_INT(count_segments(), 0);
	remove_dir(dir);
}

/* Runs crash_child; *hash and *ckp_txn get what it saw. 0 when it ran. */
static int crash_before, crash_after;

static void crash_child_fd(int fd)
{
	crash_child(crash_before, crash_after, fd);
}

static int crash(int before, int after, uint64_t *hash, uint64_t *ckp_txn)
{
	crash_before = before;
	crash_after = after;
	return run_child(crash_child_fd, hash, ckp_txn);
}

static bool file_exists(const char *name)
{
	char path[200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* The one log segment's path (the tests' runs never rotate past one). */
static bool segment_path(char *out, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;
	while (d && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "wal-", 4) == 0) {
			snprintf(out, n, "%s/%s", dir, e->d_name);
			found = true;
		}
	if (d)
		closedir(d);
	return found;
}

static void test_process_crash_keeps_everything(void)
{
	fresh_dir();
	uint64_t hash = 0, ckp = 0;
	CHECK(crash(20, 30, &hash, &ckp) == 0);
	CHECK(file_exists("checkpoint"));
	char seg[400];
	CHECK(segment_path(seg, sizeof(seg)));
	st_err err;
	st_store *s = open_store(dir, &err);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK(hash != 0 && hash_store(s) == hash); /* every table, byte for byte */
		char sum[64];
		summary_of(s, 0, sum, sizeof(sum));
		CHECK_EQ_STR(sum, "round 2 of entity 0");
		summary_of(s, 49, sum, sizeof(sum));
		CHECK_EQ_STR(sum, "round 1 of entity 49");
		/* a resend of a redone write is known by its request id */
		CHECK_EQ_INT(put_entity(s, 25, 1, "rid-25"), ANNALS_OK);
		CHECK_EQ_INT(atomic_load(&s->revision), 20 + 30 + 1);
		st_close(s);
	}
	CHECK(!file_exists("checkpoint")); /* a clean close leaves the file whole */
	CHECK(!segment_path(seg, sizeof(seg)));
	remove_dir(dir);
}

/* Makes the checkpoint file say it was written in another boot of the
 * machine (and mends its sum): what a restart after a power cut finds. */
static int other_boot(void)
{
	char path[200];
	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	int fd = open(path, O_RDWR);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 56)
		return -1;
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len);
	bool ok = buf != NULL && pread(fd, buf, len, 0) == (ssize_t)len;
	if (ok) {
		uint64_t boot;
		memcpy(&boot, buf + 40, 8);
		boot ^= 0x9e3779b97f4a7c15ull;
		memcpy(buf + 40, &boot, 8);
		uint64_t sum = hash_fnv1a(HASH_FNV1A_INIT, buf, len - 8);
		memcpy(buf + len - 8, &sum, 8);
		ok = pwrite(fd, buf, len, 0) == (ssize_t)len;
	}
	free(buf);
	close(fd);
	return ok ? 0 : -1;
}

/* Zeroes every page past the checkpoint's last page and both meta pages:
 * a power cut that kept only what the checkpoint synced. */
static int cut_power(uint64_t *ckp_txn)
{
	char path[200];
	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	int fd = open(path, O_RDONLY);
	uint8_t head[48];
	uint32_t psize = 0;
	if (fd < 0 || read(fd, head, sizeof(head)) != (ssize_t)sizeof(head))
		return -1;
	memcpy(&psize, head + 12, 4);
	uint8_t *meta = malloc(2 * (size_t)psize);
	bool ok = meta != NULL && read(fd, meta, 2 * (size_t)psize) == (ssize_t)(2 * (size_t)psize);
	close(fd);
	if (!ok)
		return -1;
	uint64_t last0, last1, t0, t1;
	memcpy(&last0, meta + META_LAST_PG_AT, 8);
	memcpy(&last1, meta + psize + META_LAST_PG_AT, 8);
	memcpy(&t0, meta + META_TXNID_AT, 8);
	memcpy(&t1, meta + psize + META_TXNID_AT, 8);
	free(meta);
	uint64_t last = t0 > t1 ? last0 : last1;
	*ckp_txn = t0 > t1 ? t0 : t1;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	fd = open(path, O_RDWR);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		return -1;
	uint8_t *zero = calloc(1, psize);
	int pages = 0;
	for (uint64_t pg = last + 1; (off_t)(pg * psize) < st.st_size; pg++, pages++)
		if (pwrite(fd, zero, psize, (off_t)(pg * psize)) != (ssize_t)psize)
			ok = false;
	if (pwrite(fd, zero, psize, 0) != (ssize_t)psize || pwrite(fd, zero, psize, psize) != (ssize_t)psize)
		ok = false;
	free(zero);
	close(fd);
	return ok && pages > 0 ? 0 : -1;
}

static void test_power_cut_keeps_everything(void)
{
	fresh_dir();
	uint64_t hash = 0, ckp = 0, cut_txn = 0;
	CHECK(crash(10, 40, &hash, &ckp) == 0);
	CHECK(cut_power(&cut_txn) == 0);
	CHECK(other_boot() == 0);
	CHECK_EQ_INT(cut_txn, ckp); /* the checkpoint named the snapshot the child synced */
	/* The control: the same damage without the checkpoint does not open. */
	char copy[80], cmd[300];
	snprintf(copy, sizeof(copy), "%s-control", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/data.mdb %s/", copy, dir, copy);
	CHECK(system(cmd) == 0);
	st_err err;
	st_store *s = open_store(copy, &err);
	CHECK(s == NULL);
	if (s != NULL)
		st_close(s);
	remove_dir(copy);
	s = open_store(dir, &err);
	CHECK(s != NULL);
	if (s == NULL)
		fprintf(stderr, "  open after the power cut: %s\n", err.msg);
	if (s != NULL) {
		CHECK(hash_store(s) == hash);
		char sum[64];
		summary_of(s, 0, sum, sizeof(sum));
		CHECK_EQ_STR(sum, "round 2 of entity 0");
		summary_of(s, 45, sum, sizeof(sum));
		CHECK_EQ_STR(sum, "round 1 of entity 45");
		st_close(s);
	}
	/* and the store opens again as it is, after its clean close */
	s = open_store(dir, &err);
	CHECK(s != NULL && hash_store(s) == hash);
	if (s != NULL)
		st_close(s);
	remove_dir(dir);
}

static void test_torn_record_goes_alone(void)
{
	fresh_dir();
	uint64_t hash = 0, ckp = 0;
	CHECK(crash(5, 6, &hash, &ckp) == 0); /* 6 puts, then entity 0's rewrite, last */
	char seg[400];
	CHECK(segment_path(seg, sizeof(seg)));
	/* the last record, cut short: its last bytes never reached the disk
	 * (the segment's space is allocated ahead, so they read as zeros) */
	int fd = open(seg, O_RDWR);
	size_t end = 0;
	uint32_t h[2] = {0, 0};
	while (fd >= 0 && pread(fd, h, 8, (off_t)end) == 8 && h[0] != 0)
		end += 24 + h[1];
	uint8_t zero[7] = {0};
	CHECK(end > 7 && pwrite(fd, zero, sizeof(zero), (off_t)(end - 7)) == 7);
	if (fd >= 0)
		close(fd);
	CHECK(other_boot() == 0);
	st_err err;
	st_store *s = open_store(dir, &err);
	CHECK(s != NULL);
	if (s != NULL) {
		char sum[64];
		summary_of(s, 0, sum, sizeof(sum));
		CHECK_EQ_STR(sum, "round 1 of entity 0"); /* the torn rewrite is gone */
		summary_of(s, 10, sum, sizeof(sum));
		CHECK_EQ_STR(sum, "round 1 of entity 10"); /* the record before it stays */
		CHECK_EQ_INT(atomic_load(&s->revision), 5 + 6);
		CHECK(hash_store(s) != hash);
		CHECK_EQ_INT(put_entity(s, 0, 3, NULL), ANNALS_OK); /* and writes go on */
		st_close(s);
	}
	s = open_store(dir, &err);
	if (s != NULL) {
		char sum[64];
		summary_of(s, 0, sum, sizeof(sum));
		CHECK_EQ_STR(sum, "round 3 of entity 0");
		st_close(s);
	}
	remove_dir(dir);
}

static void test_damage_before_answered_records_refuses(void)
{
	fresh_dir();
	uint64_t hash = 0, ckp = 0;
	CHECK(crash(3, 8, &hash, &ckp) == 0);
	char seg[400];
	CHECK(segment_path(seg, sizeof(seg)));
	int fd = open(seg, O_RDWR);
	uint8_t b = 0;
	CHECK(fd >= 0 && pread(fd, &b, 1, 40) == 1); /* inside the first record's payload */
	b ^= 0x5a;
	CHECK(pwrite(fd, &b, 1, 40) == 1);
	close(fd);
	CHECK(other_boot() == 0);
	st_err err;
	st_store *s = open_store(dir, &err);
	CHECK(s == NULL);
	CHECK_EQ_INT(err.code, ANNALS_DATA_LOSS);
	CHECK_CONTAINS(err.msg, "damaged");
	if (s != NULL)
		st_close(s);
	remove_dir(dir);
}

/* Holds the store open in another process (as mdb_stat or a backup would)
 * until told to stop through the pipe it reads. */
static pid_t hold_store(int *stop_fd)
{
	int p[2], ready[2];
	if (pipe(p) != 0 || pipe(ready) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		close(ready[0]);
		MDB_env *env;
		char c = 'x';
		if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 32) != 0 ||
		    mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600) != 0)
			c = 'e';
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		if (read(p[0], &c, 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	char c = 0;
	if (read(ready[0], &c, 1) != 1 || c != 'x')
		pid = -1;
	close(ready[0]);
	*stop_fd = p[1];
	return pid;
}

static void test_going_back_refused_while_the_store_is_open(void)
{
	fresh_dir();
	uint64_t hash = 0, ckp = 0;
	CHECK(crash(4, 6, &hash, &ckp) == 0);
	CHECK(other_boot() == 0);
	int stop = -1;
	pid_t holder = hold_store(&stop);
	CHECK(holder > 0);
	st_err err;
	st_store *s = open_store(dir, &err);
	CHECK(s == NULL);
	CHECK_EQ_INT(err.code, ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.msg, "another process has it open");
	if (s != NULL)
		st_close(s);
	if (stop >= 0)
		close(stop);
	if (holder > 0)
		waitpid(holder, NULL, 0);
	s = open_store(dir, &err); /* alone again: it goes back and redoes */
	CHECK(s != NULL && hash_store(s) == hash);
	if (s != NULL)
		st_close(s);
	remove_dir(dir);
}

static void test_checkpoint_of_another_file_is_refused(void)
{
	fresh_dir();
	uint64_t hash = 0, ckp = 0;
	CHECK(crash(4, 4, &hash, &ckp) == 0);
	/* A restore puts another file in its place: here, a copy made fresh. */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "cp %s/data.mdb %s/data.mdb.new && mv %s/data.mdb.new %s/data.mdb", dir,
	         dir, dir, dir);
	CHECK(system(cmd) == 0);
	st_err err;
	st_store *s = open_store(dir, &err);
	CHECK(s == NULL); /* neither applied to it nor deleted: the operator decides */
	CHECK_EQ_INT(err.code, ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.msg, "another data file");
	CHECK(file_exists("checkpoint"));
	if (s != NULL)
		st_close(s);
	/* what the message says to do, when the file was replaced on purpose */
	snprintf(cmd, sizeof(cmd), "rm -f %s/checkpoint %s/wal-*.log", dir, dir);
	CHECK(system(cmd) == 0);
	s = open_store(dir, &err);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK(hash_store(s) == hash); /* the copy had everything: the page cache */
		st_close(s);
	}
	remove_dir(dir);
}

static void test_one_process_per_store(void)
{
	fresh_dir();
	st_err err;
	st_store *a = open_store(dir, &err);
	CHECK(a != NULL);
	st_store *b = open_store(dir, &err); /* another open file: another process, to flock */
	CHECK(b == NULL);
	CHECK_EQ_INT(err.code, ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.msg, "open in another process");
	if (b != NULL)
		st_close(b);
	if (a != NULL)
		st_close(a);
	b = open_store(dir, &err);
	CHECK(b != NULL);
	if (b != NULL)
		st_close(b);
	remove_dir(dir);
}

int main(void)
{
	RUN(test_process_crash_keeps_everything);
	RUN(test_power_cut_keeps_everything);
	RUN(test_going_back_refused_while_the_store_is_open);
	RUN(test_redo_spans_segments);
	RUN(test_torn_record_goes_alone);
	RUN(test_damage_before_answered_records_refuses);
	RUN(test_checkpoint_of_another_file_is_refused);
	RUN(test_one_process_per_store);
	return CHECK_DONE();
}
