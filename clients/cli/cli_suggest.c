/*
 * cli_suggest — "did you mean": the closest known word to a mistyped one.
 *
 * Edit distance (as git's help.autocorrect and kubectl do, with swaps),
 * case-insensitive, with a bound that grows with the word: one edit for
 * short words, a third of the word for longer ones. A word that begins a
 * candidate counts as close too ("memb" -> "members").
 */
#include <ctype.h>
#include <string.h>

#include "cli.h"

#define SUGGEST_MAX_LEN 64 /* longer words are no typos of ours */

static bool suggest_same(char x, char y)
{
	return tolower((unsigned char)x) == tolower((unsigned char)y);
}

/* Optimal string alignment: Levenshtein plus the swap of two neighbours
 * ("gte" -> "get" is one edit), the commonest typo of all. */
size_t cli_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return SIZE_MAX;
	size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (suggest_same(a[i - 1], b[j - 1]) ? 0 : 1);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && suggest_same(a[i - 1], b[j - 2]) &&
			    suggest_same(a[i - 2], b[j - 1]) && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

static bool suggest_is_prefix(const char *word, const char *cand)
{
	size_t n = strlen(word);
	if (n < 3 || n >= strlen(cand))
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)word[i]) != tolower((unsigned char)cand[i]))
			return false;
	return true;
}

const char *cli_closest(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word);
	size_t bound = len <= 4 ? 1 : len / 3 + 1;
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		if (cands[i] == NULL)
			continue;
		size_t d = suggest_is_prefix(word, cands[i]) ? 0 : cli_edit_distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best_d <= bound ? best : NULL;
}
