/*
 * cmd_login: `focal login` and `focal logout` — a session for the command
 * line, kept as a bearer token in a file only its owner can read, which
 * `focal search` then sends (cli_token_header).
 *
 * Token file: $FOCAL_TOKEN_FILE, else $XDG_RUNTIME_DIR/focal/token (a
 * per-login tmpfs that disappears at logout), else ~/.config/focal/token;
 * mode 0600 in a 0700 folder.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "auth/totp.h"
#include "cli/commands.h"

#define LOGIN_MAX_RESPONSE (1024u * 1024u)

int cli_token_path(char *out, size_t cap)
{
	const char *env = getenv("FOCAL_TOKEN_FILE"), *run = getenv("XDG_RUNTIME_DIR");
	const char *home = getenv("HOME");

	if (env != NULL && env[0] != '\0')
		return snprintf(out, cap, "%s", env) < (int)cap ? 0 : -1;
	if (run != NULL && run[0] == '/')
		return snprintf(out, cap, "%s/focal/token", run) < (int)cap ? 0 : -1;
	if (home != NULL && home[0] == '/')
		return snprintf(out, cap, "%s/.config/focal/token", home) < (int)cap ? 0 : -1;
	return -1;
}

/* Reads the saved token into tok (65 bytes).  0 when there is one. */
static int cli_token_read(char tok[65])
{
	char path[1024];
	struct stat sb;
	ssize_t n;
	int fd;

	tok[0] = '\0';
	if (cli_token_path(path, sizeof(path)) != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	/* a token others could read may have been copied: do not use it */
	if (fstat(fd, &sb) != 0 || (sb.st_mode & 077) != 0 || sb.st_uid != getuid()) {
		close(fd);
		fprintf(stderr, "focal: ignoring %s: readable by others (log in again)\n", path);
		return -1;
	}
	n = read(fd, tok, 64);
	close(fd);
	if (n != 64)
		return -1;
	tok[64] = '\0';
	return 0;
}

int cli_token_header(char *out, size_t cap)
{
	char tok[65];
	int rc = -1;

	if (cli_token_read(tok) == 0 && snprintf(out, cap, "Authorization: Bearer %s", tok) < (int)cap)
		rc = 0;
	sodium_memzero(tok, sizeof(tok));
	return rc;
}

static int cli_token_write(const char *tok)
{
	char path[1024], *slash;
	int fd;
	size_t n = strlen(tok);

	if (cli_token_path(path, sizeof(path)) != 0) {
		fprintf(stderr, "focal: nowhere to keep the token (set HOME or FOCAL_TOKEN_FILE)\n");
		return -1;
	}
	/* create the folders (0700) on the way */
	for (slash = strchr(path + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "focal: cannot create %s: %s\n", path, strerror(errno));
			return -1;
		}
		*slash = '/';
	}
	unlink(path); /* a fresh inode: no old mode, no other hard link */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, tok, n) != (ssize_t)n) {
		fprintf(stderr, "focal: cannot write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* POSTs body (may be NULL) to url+path; *status and *resp (may stay NULL). */
static int login_post(const char *url, const char *path, const char *cacert, const char *auth,
		      json_t *body, long *status, json_t **resp)
{
	char endpoint[1024], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	char *data = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&data, &len); /* curl's default writer appends to it */
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	CURL *curl = curl_easy_init();
	int rc = -1;

	*status = 0;
	*resp = NULL;
	if (curl == NULL || mem == NULL || (body != NULL && text == NULL))
		goto out;
	snprintf(endpoint, sizeof(endpoint), "%s%s", url, path);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (auth != NULL)
		hdrs = curl_slist_append(hdrs, auth);
	curl_easy_setopt(curl, CURLOPT_URL, endpoint);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text ? text : "");
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, mem);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE, (long)LOGIN_MAX_RESPONSE);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	if (cacert != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, cacert);
	if (curl_easy_perform(curl) != CURLE_OK) {
		fprintf(stderr, "focal: cannot reach %s: %s\n", endpoint, errbuf);
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	fclose(mem);
	mem = NULL;
	*resp = data ? json_loadb(data, len, 0, NULL) : NULL;
	rc = 0;
out:
	if (mem != NULL)
		fclose(mem);
	if (text != NULL) {
		sodium_memzero(text, strlen(text)); /* it holds the password */
		free(text);
	}
	if (data != NULL)
		sodium_memzero(data, len); /* it holds the token */
	free(data);
	curl_slist_free_all(hdrs);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	return rc;
}

/* Asks on the terminal (echo off when secret). */
static int login_prompt(const char *question, bool secret, char *out, size_t cap)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	size_t n;

	out[0] = '\0';
	if (tty == NULL)
		return -1;
	if (secret) {
		tcgetattr(fileno(tty), &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	fputs(question, tty);
	fflush(tty);
	if (fgets(out, (int)cap, tty) == NULL)
		out[0] = '\0';
	if (secret) {
		fputs("\n", tty);
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	}
	fclose(tty);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}

static const char *login_error(json_t *resp)
{
	const char *m = json_string_value(json_object_get(json_object_get(resp, "error"), "message"));

	return m ? m : "no explanation";
}

static void login_usage(FILE *f)
{
	fprintf(f, "usage: focal login [--url URL] [--cacert FILE] [--user NAME]\n"
		   "                   [--password-file FILE|-] [--totp CODE]\n"
		   "       focal logout [--url URL] [--cacert FILE]\n"
		   "  the session token is kept in $XDG_RUNTIME_DIR/focal/token (or\n"
		   "  ~/.config/focal/token), mode 0600; `focal search` sends it.\n");
}

/* Saves the token of a successful answer and tells who is logged in. */
static int login_finish(json_t *resp)
{
	const char *tok = json_string_value(json_object_get(resp, "token"));
	json_t *codes = json_object_get(resp, "recovery_codes");
	size_t i;
	json_t *v;

	if (tok == NULL || strlen(tok) != 64 || cli_token_write(tok) != 0) {
		fprintf(stderr, "focal: no usable token in the answer\n");
		return 1;
	}
	printf("logged in as %s until %s (idle timeout %lld s)\n",
	       json_string_value(json_object_get(json_object_get(resp, "user"), "username")),
	       json_string_value(json_object_get(resp, "expires_at")),
	       (long long)json_integer_value(json_object_get(resp, "idle_timeout_s")));
	if (json_is_array(codes)) {
		printf("Recovery codes (each works once; keep them offline):\n");
		json_array_foreach(codes, i, v)
			printf("  %s\n", json_string_value(v));
	}
	return 0;
}

int cmd_login(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "cacert", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'n' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "totp", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = getenv("FOCAL_URL"), *cacert = getenv("FOCAL_CACERT");
	const char *user = getenv("USER"), *pwfile = NULL, *totp = NULL;
	char password[600] = "", code[64] = "";
	json_t *body = NULL, *resp = NULL;
	long status = 0;
	int c, rc = 1;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'c': cacert = optarg; break;
		case 'n': user = optarg; break;
		case 'p': pwfile = optarg; break;
		case 't': totp = optarg; break;
		case 'h': login_usage(stdout); return 0;
		default: login_usage(stderr); return 2;
		}
	}
	if (url == NULL)
		url = "https://127.0.0.1:8443";
	if (user == NULL || optind != argc) {
		login_usage(stderr);
		return 2;
	}
	if (pwfile != NULL) {
		FILE *f = strcmp(pwfile, "-") == 0 ? stdin : fopen(pwfile, "r");

		if (f == NULL || fgets(password, sizeof(password), f) == NULL) {
			fprintf(stderr, "focal: cannot read the password from %s\n", pwfile);
			if (f != NULL && f != stdin)
				fclose(f);
			return 1;
		}
		if (f != stdin)
			fclose(f);
		password[strcspn(password, "\r\n")] = '\0';
	} else if (login_prompt("Password: ", true, password, sizeof(password)) != 0) {
		fprintf(stderr, "focal: no terminal: use --password-file\n");
		return 1;
	}
	if (totp != NULL)
		snprintf(code, sizeof(code), "%s", totp);
	else if (login_prompt("Code (authenticator app; empty if not enrolled yet): ", false, code,
			      sizeof(code)) != 0)
		code[0] = '\0';
	body = json_pack("{s:s, s:s, s:s, s:b}", "username", user, "password", password, "totp",
			 code, "want_token", 1);
	sodium_memzero(password, sizeof(password));
	if (body == NULL || login_post(url, "/v1/auth/login", cacert, NULL, body, &status, &resp) != 0)
		goto out;
	if (status == 200 && json_object_get(resp, "enrolment_token") != NULL) {
		const char *uri = json_string_value(json_object_get(resp, "otpauth_uri"));
		const char *tok = json_string_value(json_object_get(resp, "enrolment_token"));
		char *qr = NULL;
		json_t *enrol;

		printf("Two-factor enrolment: scan this with an authenticator app\n  %s\n",
		       uri ? uri : "");
		if (uri != NULL && totp_qr_terminal(uri, &qr, NULL) == 0) {
			fputs(qr, stdout);
			free(qr);
		}
		fflush(stdout);
		if (login_prompt("Code shown by the app: ", false, code, sizeof(code)) != 0) {
			fprintf(stderr, "focal: no terminal to read the code from\n");
			goto out;
		}
		enrol = json_pack("{s:s, s:s, s:b}", "enrolment_token", tok ? tok : "", "totp", code,
				  "want_token", 1);
		json_decref(resp);
		resp = NULL;
		if (enrol == NULL ||
		    login_post(url, "/v1/auth/mfa/enrol", cacert, NULL, enrol, &status, &resp) != 0) {
			json_decref(enrol);
			goto out;
		}
		json_decref(enrol);
	}
	if (status != 200) {
		fprintf(stderr, "focal: login refused (HTTP %ld): %s\n", status, login_error(resp));
		goto out;
	}
	rc = login_finish(resp);
out:
	sodium_memzero(code, sizeof(code));
	json_decref(body);
	json_decref(resp);
	return rc;
}

int cmd_logout(int argc, char **argv)
{
	const char *url = getenv("FOCAL_URL"), *cacert = getenv("FOCAL_CACERT");
	char auth[128], path[1024];
	json_t *resp = NULL;
	long status = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--url") == 0)
			url = argv[i + 1];
		else if (strcmp(argv[i], "--cacert") == 0)
			cacert = argv[i + 1];
	}
	if (cli_token_header(auth, sizeof(auth)) != 0) {
		printf("not logged in\n");
		return 0;
	}
	login_post(url ? url : "https://127.0.0.1:8443", "/v1/auth/logout", cacert, auth, NULL,
		   &status, &resp);
	sodium_memzero(auth, sizeof(auth));
	json_decref(resp);
	if (cli_token_path(path, sizeof(path)) == 0)
		unlink(path);
	printf(status == 204 ? "logged out\n" : "token removed (focald answered %ld)\n", status);
	return 0;
}
