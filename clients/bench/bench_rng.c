/*
 * Random numbers and key distributions. Each call slot owns a bench_rng, so
 * drawing a key takes no lock.
 *
 * The zipfian generator is the one of Gray et al., "Quickly generating
 * billion-record synthetic databases" (SIGMOD 1994), as YCSB uses it: O(n)
 * once to sum zeta(n), then O(1) per draw. Rank r is then scrambled with a
 * multiplicative hash so the hot keys are not simply ids 0, 1, 2 (which
 * would sit on the same LMDB pages and flatter the cache).
 */
#include <math.h>

#include "bench.h"

uint64_t bench_rng_next(bench_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

double bench_rng_unit(bench_rng *r)
{
	return (double)(bench_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t bench_rng_below(bench_rng *r, uint64_t n)
{
	if (n <= 1)
		return 0;
	/* Lemire's multiply-shift: the bias is below 2^-32 for our n */
	return (uint64_t)(((unsigned __int128)bench_rng_next(r) * n) >> 64);
}

static double dist_zeta(uint64_t n, double theta)
{
	double sum = 0;
	for (uint64_t i = 1; i <= n; i++)
		sum += 1.0 / pow((double)i, theta);
	return sum;
}

void bench_dist_init(bench_dist *d, uint64_t n, bool zipf, double theta)
{
	d->n = n ? n : 1;
	d->zipf = zipf && d->n > 2;
	d->theta = theta;
	if (!d->zipf)
		return;
	d->zetan = dist_zeta(d->n, theta);
	double zeta2 = dist_zeta(2, theta);
	d->alpha = 1.0 / (1.0 - theta);
	d->eta = (1.0 - pow(2.0 / (double)d->n, 1.0 - theta)) / (1.0 - zeta2 / d->zetan);
	d->half_pow_theta = 1.0 + pow(0.5, theta);
}

uint64_t bench_dist_draw(const bench_dist *d, bench_rng *r)
{
	if (d->n <= 1)
		return 0;
	if (!d->zipf)
		return bench_rng_below(r, d->n);
	double u = bench_rng_unit(r);
	double uz = u * d->zetan;
	uint64_t rank;
	if (uz < 1.0)
		rank = 0;
	else if (uz < d->half_pow_theta)
		rank = 1;
	else
		rank = (uint64_t)((double)d->n * pow(d->eta * u - d->eta + 1.0, d->alpha));
	if (rank >= d->n)
		rank = d->n - 1;
	/* FNV-style scramble; a permutation is not needed, only spreading */
	uint64_t h = (rank + 1) * 0x9e3779b97f4a7c15u;
	h ^= h >> 29;
	return h % d->n;
}
