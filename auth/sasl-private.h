/*
 * What the SASL mechanism files (auth/sasl-*.c) share inside roost-auth:
 * the session layout and each mechanism's step function. Not for callers
 * of auth/sasl.h.
 */
#ifndef ROOST_AUTH_SASL_PRIVATE_H
#define ROOST_AUTH_SASL_PRIVATE_H

#include "sasl.h"

struct sasl_scram_state;

struct sasl_session {
	enum sasl_mech_id mech;
	struct sasl_server_settings set;
	/* Mechanism-specific progress; 0 is "nothing received yet". */
	int state;
	bool first_step_done;
	bool finished;
	bool verified;
	enum sasl_failure failure;
	struct buf user;
	struct buf password;
	struct sasl_scram_state *scram;
};

/*
 * One step of a mechanism. data is never NULL here except on the first
 * step without an initial response; the dispatcher has already refused
 * responses longer than SASL_MESSAGE_MAX and reset challenge.
 */
typedef enum sasl_result sasl_mech_step_fn(struct sasl_session *s, const uint8_t *data, size_t len,
					   struct buf *challenge, const char **error_r);

enum sasl_result sasl_plain_step(struct sasl_session *s, const uint8_t *data, size_t len,
				 struct buf *challenge, const char **error_r);
enum sasl_result sasl_login_step(struct sasl_session *s, const uint8_t *data, size_t len,
				 struct buf *challenge, const char **error_r);
enum sasl_result sasl_scram_step(struct sasl_session *s, const uint8_t *data, size_t len,
				 struct buf *challenge, const char **error_r);
/* Wipes and frees the SCRAM state, if any. */
void sasl_scram_free(struct sasl_session *s);

/* Whether p[0..len) is well-formed UTF-8 without NUL. */
bool sasl_utf8_valid(const uint8_t *p, size_t len);

#endif
