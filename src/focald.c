/*
 * focald: the Focal daemon.  Parses the command line, starts the server
 * (http/server.c) and runs until SIGTERM.  See docs/ARCHITECTURE.md.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "http/server.h"
#include "http/tls.h"
#include "sources/breaker.h"
#include "core/metrics.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: focald [-c FILE] [--check] [--debug] [--dev-insecure-no-auth]\n"
		"  -c, --config FILE         configuration (default: /etc/focal/focal.yaml)\n"
		"      --check               validate the configuration and exit\n"
		"      --debug               debug logging\n"
		"      --dev-insecure-no-auth  DEVELOPMENT ONLY: searches without login\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "debug", no_argument, NULL, 'd' },
		{ "dev-insecure-no-auth", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = "/etc/focal/focal.yaml";
	bool check = false, no_auth = false;
	struct focal_err err = { 0 };
	struct server srv;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'k': check = true; break;
		case 'd': log_set_level(LOG_DEBUG); break;
		case 'N': no_auth = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (check) {
		struct config *cfg = NULL;
		SSL_CTX *ssl = NULL;

		rc = config_load(path, &cfg, &err);
		if (rc != FOCAL_OK) {
			fprintf(stderr, "focald: %s\n", err.msg);
			return 1;
		}
		/* the certificate and key must load too, or the daemon would not start */
		if ((rc = tls_server_ctx(&cfg->server, &ssl, &err)) != FOCAL_OK) {
			fprintf(stderr, "focald: %s: %s\n", path, err.msg);
			config_unref(cfg);
			return 1;
		}
		SSL_CTX_free(ssl);
		printf("%s: valid, %zu sources\n", path, cfg->nsources);
		config_unref(cfg);
		breaker_shutdown();
		metrics_shutdown();
		return 0;
	}
	if (no_auth)
		log_warn("insecure_mode",
			 "DEVELOPMENT MODE: --dev-insecure-no-auth lets anyone who reaches this port "
			 "search without logging in. Never use it with real data.");
	rc = server_start(&srv, path, no_auth, &err);
	if (rc != FOCAL_OK) {
		log_error("start", "focald cannot start: %s", err.msg);
		fprintf(stderr, "focald: %s\n", err.msg);
		server_free(&srv);
		return 1;
	}
	server_run(&srv);
	server_free(&srv);
	return 0;
}
