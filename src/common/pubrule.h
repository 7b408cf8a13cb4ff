/*
 * pr_ — which bounds of a record a document attests as past: the input of
 * rule publication-follows-reported-past (knowledge/pubdate.c). One rule
 * in one place, because two sides apply it: the knowledge engine derives a
 * document's publication bounds from these offers, and the store keeps an
 * index of them (store/pubfloor.c) so the derivation reads a few keys
 * instead of every citing record. If the two disagreed the index would
 * name the wrong records; sharing the enumeration makes that impossible.
 *
 * An offer: a Date whose first day the document was written on or after.
 *   - an Event with status OCCURRED and evidence the document states: its
 *     `when`;
 *   - a bound of a Relation, or of an Entity's Name or Attribute, whose
 *     evidence the document states: an EXACT, OBSERVED or AFTER start; an
 *     EXACT or OBSERVED end.
 * "States": evidence naming the document, not inferred, modality ASSERTED
 * or REPORTED (the first such evidence of the part is the one reported).
 */
#ifndef ANNALS_COMMON_PUBRULE_H
#define ANNALS_COMMON_PUBRULE_H

#include <stdbool.h>

#include "annals/v1/model.pb-c.h"

typedef enum pr_part {
	PR_EVENT,     /* the event's when */
	PR_RELATION,  /* a relation's valid interval */
	PR_NAME,      /* a name of an entity (name set) */
	PR_ATTRIBUTE, /* an attribute of an entity (attribute set) */
} pr_part;

typedef struct pr_offer {
	Annals__V1__Date *date; /* may be relative; NULL never passed */
	pr_part part;
	bool start; /* a bound: the start (else the end); unused for PR_EVENT */
	const Annals__V1__Event *event;
	const Annals__V1__Relation *relation;
	const Annals__V1__Entity *entity;
	const Annals__V1__Name *name;
	const Annals__V1__Attribute *attribute;
	const Annals__V1__Evidence *evidence; /* the stating evidence */
} pr_offer;

typedef void (*pr_offer_fn)(void *ctx, const pr_offer *o);

/* Calls fn for each offer m (a packed-then-unpacked Event, Relation or
 * Entity; anything else offers nothing) makes for document doc, in a fixed
 * order: names, then attributes; a start before its end. */
void pr_each_offer(const ProtobufCMessage *m, const char *doc, pr_offer_fn fn, void *ctx);

#endif
