/*
 * render: the briefing as an officer reads it in a terminal — warnings first
 * (bold white on red on a colour terminal, each with its instruction and whom
 * it concerns), then one card per entity (every fact with the sources that
 * gave it in [brackets], conflicting facts marked CONFLICT, related entities),
 * then possible matches (not merged, with the reason), then one status line
 * per source.  Values from sources are printed with control characters
 * replaced, so that no source can drive the officer's terminal.
 */
#ifndef FOCAL_RENDER_H
#define FOCAL_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

void render_briefing(const json_t *briefing, FILE *out, bool colour);

#endif
