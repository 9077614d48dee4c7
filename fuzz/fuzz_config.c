/*
 * fuzz_config: libFuzzer harness for the configuration loader.
 *
 * The input is a whole focal.yaml.  config_load_string runs everything a
 * real load runs: libyaml, cfgnode's typed getters, every query template
 * compiled, every map parsed, and each connector's configure() on its
 * `connection` (libpq's conninfo parser, the HTTP URL checks, file paths).
 * A configuration is written by an administrator, not an attacker, but a
 * daemon must reject a bad one with a message, never crash on it.
 *
 * Besides the sanitizers, the harness checks the loader's own contract: a
 * failure carries a negative code equal to err.code and a message; a success
 * yields sources that each have a name, a connector, at least one query and a
 * mapping that yields something.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "sources/breaker.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	(void)argc;
	(void)argv;
	/* keep warnings formatted (that code runs too) but off the terminal */
	if (fd >= 0)
		log_set_fd(fd);
	return 0;
}

static void check_config(const struct config *c)
{
	for (size_t i = 0; i < c->nsources; i++) {
		const struct source_def *d = &c->sources[i];
		size_t nq = 0;

		if (d->name == NULL || d->conn == NULL || d->owner == NULL || d->index != i ||
		    d->map.nentities == 0 || d->breaker == NULL || d->metrics == NULL)
			abort();
		for (int k = 0; k < QUERY__COUNT; k++)
			nq += d->queries[k].present;
		if (nq == 0)
			abort();
		if (config_source(c, d->name) != d)
			abort(); /* names are unique */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct focal_err err = { 0 };
	int rc;

	rc = config_load_string("fuzz.yaml", (const char *)data, size, &cfg, &err);
	if (rc == 0) {
		if (cfg == NULL)
			abort();
		check_config(cfg);
		config_unref(cfg);
	} else if (rc > 0 || cfg != NULL || err.code != rc ||
		   memchr(err.msg, '\0', sizeof(err.msg)) == NULL || err.msg[0] == '\0') {
		abort();
	}
	/* process-wide registries keyed by source name: empty them so memory does
	 * not grow with every name the fuzzer invents (nothing else uses them) */
	breaker_shutdown();
	metrics_shutdown();
	return 0;
}
