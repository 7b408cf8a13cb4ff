/* Unit tests of src/common/sentences.c: the founding article's sentence
 * table as the built-in data set records it, and texts written to hold the
 * traps a news splitter meets (abbreviations, initials, decimals, quotes,
 * datelines). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/sentences.h"
#include "../lib/check.h"

static size_t split(const char *text, sent_span *out, size_t cap)
{
	return sent_split(text, strlen(text), out, cap);
}

/* The sentences of text, as a '|'-separated string, for readable checks. */
static const char *joined(const char *text)
{
	static char buf[4096];
	sent_span s[64];
	size_t n = split(text, s, 64), used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && i < 64; i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%.*s", i ? "|" : "",
		                         (int)(s[i].end - s[i].start), text + s[i].start);
	return buf;
}

static void test_founding_article(void)
{
	const char *root = getenv("ANNALS_ROOT");
	char path[1024], dpath[1024];
	snprintf(path, sizeof(path), "%s/../shared/seeds/000_ad6eff3e562ac92b.txt", root ? root : ".");
	snprintf(dpath, sizeof(dpath), "%s/data/seed/dataset.json", root ? root : ".");
	size_t len = 0;
	char *text = file_read_all(path, 1u << 20, &len);
	json_t *ds = json_load_file(dpath, 0, NULL);
	CHECK(text != NULL && ds != NULL);
	if (text == NULL || ds == NULL)
		return;
	json_t *want = json_object_get(json_array_get(json_object_get(ds, "documents"), 0), "sentences");
	sent_span s[64];
	size_t n = sent_split(text, len, s, 64);
	CHECK_EQ_INT(n, 15);
	CHECK_EQ_INT(json_array_size(want), 15);
	for (size_t i = 0; i < n && i < json_array_size(want); i++) {
		json_t *w = json_array_get(want, i);
		CHECK_EQ_INT(s[i].start, json_integer_value(json_object_get(w, "start")));
		CHECK_EQ_INT(s[i].end, json_integer_value(json_object_get(w, "end")));
	}
	CHECK_EQ_INT(sent_at(s, n, 0), 1);
	CHECK_EQ_INT(sent_at(s, n, 193), 0); /* the blank line after sentence 1 */
	CHECK_EQ_INT(sent_at(s, n, 2551), 15);
	json_decref(ds);
	free(text);
}

static void test_abbreviations_and_initials(void)
{
	CHECK_EQ_STR(joined("Maj.-Gen. Stanislav Zas arrived. Mr. Rahmon met him."),
	             "Maj.-Gen. Stanislav Zas arrived.|Mr. Rahmon met him.");
	CHECK_EQ_STR(joined("The U.S. Army said so. J. R. R. Tolkien wrote it."),
	             "The U.S. Army said so.|J. R. R. Tolkien wrote it.");
	CHECK_EQ_STR(joined("They met at 9 a.m. Monday in Dushanbe. It rained."),
	             "They met at 9 a.m. Monday in Dushanbe.|It rained.");
	CHECK_EQ_STR(joined("Gen. Khachaturov left on Sept. 4 and Col. Ivanov stayed. Then."),
	             "Gen. Khachaturov left on Sept. 4 and Col. Ivanov stayed.|Then.");
	CHECK_EQ_STR(joined("Acme Inc. Chief Executive Jo Roe spoke. She left."),
	             "Acme Inc. Chief Executive Jo Roe spoke.|She left.");
	CHECK_EQ_STR(joined("It joined the U.S. and others agreed."),
	             "It joined the U.S. and others agreed.");
}

static void test_numbers(void)
{
	CHECK_EQ_STR(joined("Spending rose 3.5 percent in 2019. It fell 0.2 in 2020."),
	             "Spending rose 3.5 percent in 2019.|It fell 0.2 in 2020.");
	CHECK_EQ_STR(joined("It was founded in 1992. 1993 saw three more members."),
	             "It was founded in 1992.|1993 saw three more members.");
}

static void test_quotes(void)
{
	/* a full stop inside an open quotation is not an end... */
	CHECK_EQ_STR(joined("He said “We will go. Then we stay” and left. Next."),
	             "He said “We will go. Then we stay” and left.|Next.");
	CHECK_EQ_STR(joined("He said \"We will go. Then we stay\" and left. Next."),
	             "He said \"We will go. Then we stay\" and left.|Next.");
	/* ...unless the quotation closes right after it */
	CHECK_EQ_STR(joined("She said: “We are ready.” The talks began."),
	             "She said: “We are ready.”|The talks began.");
	CHECK_EQ_STR(joined("Is it over? “No!” he said. Fine."), "Is it over?|“No!” he said.|Fine.");
	/* an apostrophe is not a quotation mark */
	CHECK_EQ_STR(joined("Tajikistan’s chair began. It lasts a year."),
	             "Tajikistan’s chair began.|It lasts a year.");
}

static void test_datelines(void)
{
	CHECK_EQ_STR(joined("DUSHANBE, Jan. 5 (Xinhua) -- Tajik President Rahmon met Mr. Zas. They talked."),
	             "DUSHANBE, Jan. 5 (Xinhua) -- Tajik President Rahmon met Mr. Zas.|They talked.");
	CHECK_EQ_STR(joined("NEW YORK, Sept. 4 (Reuters) — Talks ended. A deal followed."),
	             "NEW YORK, Sept. 4 (Reuters) — Talks ended.|A deal followed.");
	/* capitals that are no dateline change nothing */
	CHECK_EQ_STR(joined("CSTO members met. They agreed -- mostly."),
	             "CSTO members met.|They agreed -- mostly.");
}

static void test_whitespace_and_paragraphs(void)
{
	/* U+00A0 after the stop, a blank line ending an unpunctuated heading */
	CHECK_EQ_STR(joined("  First one.\xc2\xa0\xc2\xa0 Second one.\n\nA heading\n\nBody text here.  "),
	             "First one.|Second one.|A heading|Body text here.");
	CHECK_EQ_STR(joined(""), "");
	CHECK_EQ_STR(joined(" \n\n \xc2\xa0"), "");
	CHECK_EQ_STR(joined("No stop at the end"), "No stop at the end");
	/* the count is returned even past the array */
	sent_span one[1];
	CHECK_EQ_INT(split("A b. C d. E f.", one, 1), 3);
	CHECK_EQ_INT(one[0].end, 4);
}

int main(void)
{
	RUN(test_founding_article);
	RUN(test_abbreviations_and_initials);
	RUN(test_numbers);
	RUN(test_quotes);
	RUN(test_datelines);
	RUN(test_whitespace_and_paragraphs);
	return CHECK_DONE();
}
