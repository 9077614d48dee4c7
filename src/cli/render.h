/*
 * render: the briefing as an officer reads it in a terminal — warnings first
 * (in red on a colour terminal), then records grouped by source, then one
 * status line per source.
 */
#ifndef FOCAL_RENDER_H
#define FOCAL_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

void render_briefing(const json_t *briefing, FILE *out, bool colour);

#endif
