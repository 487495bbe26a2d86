/*
 * Every setting roost knows, with its type and default, as X-macro lists.
 * Names follow Dovecot so that an administrator's configuration carries
 * over. settings.h turns these lists into structs, parsers and printers.
 * Included only by settings.h and settings.c.
 *
 * X(TYPE, name, "default")   TYPE: STR BOOL UINT SIZE TIME ENUM (list in
 * settings.c) or FILE (a "<path" whose contents master reads when needed).
 * A trailing underscore (auto_) keeps a C keyword out of the struct; the
 * setting's name has no underscore.
 */

/* Global settings; `protocol NAME { }` blocks may override any of them. */
#define ROOST_GLOBAL_SETTINGS(X)                                                                 \
	X(STR, base_dir, "/run/roost")                                                           \
	X(STR, state_dir, "/var/lib/roost")                                                      \
	X(STR, instance_name, "roost")                                                           \
	X(STR, protocols, "imap pop3")                                                           \
	X(STR, listen, "*, ::")                                                                  \
	X(BOOL, shutdown_clients, "yes")                                                         \
	X(STR, log_path, "syslog")                                                               \
	X(STR, info_log_path, "")                                                                \
	X(STR, debug_log_path, "")                                                               \
	X(STR, syslog_facility, "mail")                                                          \
	X(STR, log_timestamp, "%b %d %H:%M:%S ")                                                 \
	X(BOOL, mail_debug, "no")                                                                \
	X(BOOL, auth_debug, "no")                                                                \
	X(BOOL, auth_verbose, "no")                                                              \
	X(BOOL, verbose_ssl, "no")                                                               \
	X(UINT, default_process_limit, "100")                                                    \
	X(UINT, default_client_limit, "1000")                                                    \
	X(SIZE, default_vsz_limit, "256M")                                                       \
	X(TIME, default_idle_kill, "1 min")                                                      \
	X(STR, default_login_user, "roostnull")                                                  \
	X(STR, default_internal_user, "roost")                                                   \
	X(STR, default_internal_group, "roost")                                                  \
	X(UINT, login_max_processes_count, "128")                                                \
	X(STR, login_greeting, "roost ready.")                                                   \
	X(STR, login_trusted_networks, "")                                                       \
	X(TIME, login_idle_timeout, "3 mins")                                                    \
	X(UINT, mail_max_userip_connections, "10")                                               \
	X(UINT, first_valid_uid, "500")                                                          \
	X(UINT, last_valid_uid, "0")                                                             \
	X(UINT, first_valid_gid, "1")                                                            \
	X(UINT, last_valid_gid, "0")                                                             \
	X(STR, mail_uid, "")                                                                     \
	X(STR, mail_gid, "")                                                                     \
	X(STR, mail_privileged_group, "")                                                        \
	X(STR, mail_access_groups, "")                                                           \
	X(STR, mail_location, "")                                                                \
	X(STR, mail_home, "")                                                                    \
	X(STR, mail_plugins, "")                                                                 \
	X(ENUM, mail_fsync, "optimized")                                                         \
	X(TIME, mail_max_lock_timeout, "30 secs")                                                \
	X(BOOL, maildir_copy_with_hardlinks, "yes")                                              \
	X(BOOL, maildir_very_dirty_syncs, "no")                                                  \
	X(BOOL, mailbox_list_index, "no")                                                        \
	X(STR, valid_chroot_dirs, "")                                                            \
	X(BOOL, pop3_lock_session, "no")                                                         \
	X(STR, pop3_uidl_format, "%08Xu%08Xv")                                                   \
	X(BOOL, pop3_no_flag_updates, "no")                                                      \
	X(BOOL, pop3_reuse_xuidl, "no")                                                          \
	X(BOOL, pop3_save_uidl, "no")                                                            \
	X(BOOL, pop3_enable_last, "no")                                                          \
	X(STR, pop3_deleted_flag, "")                                                            \
	X(STR, pop3_client_workarounds, "")                                                      \
	X(STR, pop3_logout_format, "top=%t/%p, retr=%r/%b, del=%d/%m, size=%s")                  \
	X(SIZE, imap_max_line_length, "64k")                                                     \
	X(TIME, imap_idle_notify_interval, "2 mins")                                             \
	X(STR, imap_client_workarounds, "")                                                      \
	X(STR, imap_capability, "")                                                              \
	X(BOOL, imap_literal_minus, "no")                                                        \
	X(STR, imap_id_send, "name *")                                                           \
	X(STR, imap_id_log, "")                                                                  \
	X(UINT, imap_search_max_depth, "32")                                                     \
	X(UINT, imap_search_max_keys, "1000")                                                    \
	X(STR, imap_logout_format,                                                               \
	  "in=%i out=%o deleted=%{deleted} expunged=%{expunged} trashed=%{trashed} "             \
	  "hdr_count=%{fetch_hdr_count} hdr_bytes=%{fetch_hdr_bytes} "                           \
	  "body_count=%{fetch_body_count} body_bytes=%{fetch_body_bytes}")                       \
	X(ENUM, ssl, "yes")                                                                      \
	X(FILE, ssl_cert, "")                                                                    \
	X(FILE, ssl_key, "")                                                                     \
	X(STR, ssl_key_password, "")                                                             \
	X(FILE, ssl_ca, "")                                                                      \
	X(FILE, ssl_dh, "")                                                                      \
	X(ENUM, ssl_min_protocol, "TLSv1.2")                                                     \
	X(STR, ssl_cipher_list,                                                                  \
	  "ALL:!kRSA:!SRP:!kDHd:!DSS:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!MD5:!PSK:!RC4:!ADH:!LOW@" \
	  "STRENGTH")                                                                            \
	X(STR, ssl_cipher_suites, "")                                                            \
	X(STR, ssl_curve_list, "")                                                               \
	X(BOOL, ssl_prefer_server_ciphers, "no")                                                 \
	X(STR, ssl_options, "")                                                                  \
	X(BOOL, disable_plaintext_auth, "yes")                                                   \
	X(STR, auth_mechanisms, "plain")                                                         \
	X(STR, auth_username_format, "%Lu")                                                      \
	X(STR, auth_default_realm, "")                                                           \
	X(STR, auth_realms, "")                                                                  \
	X(STR, auth_username_chars,                                                              \
	  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@")                 \
	X(STR, auth_username_translation, "")                                                    \
	X(TIME, auth_failure_delay, "2 secs")                                                    \
	X(SIZE, auth_cache_size, "0")                                                            \
	X(TIME, auth_cache_ttl, "1 hour")                                                        \
	X(TIME, auth_cache_negative_ttl, "1 hour")                                               \
	X(STR, auth_master_user_separator, "")                                                   \
	X(TIME, auth_penalty_max, "15 secs")                                                     \
	X(STR, recipient_delimiter, "+")                                                         \
	X(BOOL, lda_mailbox_autocreate, "no")                                                    \
	X(BOOL, lda_mailbox_autosubscribe, "no")                                                 \
	X(STR, lda_original_recipient_header, "")                                                \
	X(SIZE, lda_max_message_size, "100M")                                                    \
	X(STR, postmaster_address, "postmaster@%d")                                              \
	X(STR, hostname, "")                                                                     \
	X(STR, sendmail_path, "/usr/sbin/sendmail")                                              \
	X(STR, submission_host, "")                                                              \
	X(BOOL, quota_full_tempfail, "no")                                                       \
	X(STR, rejection_subject, "Rejected: %s")                                                \
	X(STR, rejection_reason, "Your message to <%t> was automatically rejected:%n%r")         \
	X(STR, deliver_log_format, "msgid=%m: %$")                                               \
	X(STR, mail_log_prefix, "%s(%u): ")

/* `service NAME { }`; zero or "" means "the service's default". */
#define ROOST_SERVICE_SETTINGS(X)       \
	X(UINT, process_limit, "0")     \
	X(UINT, client_limit, "0")      \
	X(UINT, service_count, "0")     \
	X(UINT, process_min_avail, "0") \
	X(SIZE, vsz_limit, "0")         \
	X(STR, user, "")                \
	X(STR, group, "")               \
	X(STR, chroot, "")              \
	X(STR, extra_groups, "")        \
	X(TIME, idle_kill, "0")         \
	X(STR, executable, "")          \
	X(STR, test_hook, "")

/* `inet_listener NAME { }` inside a service. */
#define ROOST_INET_LISTENER_SETTINGS(X) \
	X(STR, address, "")             \
	X(UINT, port, "0")              \
	X(BOOL, ssl, "no")              \
	X(BOOL, haproxy, "no")          \
	X(BOOL, reuse_port, "no")

/* `unix_listener PATH { }` inside a service. */
#define ROOST_UNIX_LISTENER_SETTINGS(X) \
	X(STR, mode, "0600")            \
	X(STR, user, "")                \
	X(STR, group, "")

/* `namespace NAME { }`. */
#define ROOST_NAMESPACE_SETTINGS(X)      \
	X(ENUM, type, "private")         \
	X(STR, separator, "")            \
	X(STR, prefix, "")               \
	X(STR, location, "")             \
	X(BOOL, inbox, "no")             \
	X(BOOL, hidden, "no")            \
	X(STR, list, "yes")              \
	X(BOOL, subscriptions, "yes")    \
	X(BOOL, ignore_on_failure, "no") \
	X(BOOL, disabled, "no")          \
	X(UINT, order, "0")

/* `mailbox NAME { }` inside a namespace (or at top level). */
#define ROOST_MAILBOX_SETTINGS(X)           \
	X(ENUM, auto_, "no")                \
	X(STR, special_use, "")             \
	X(TIME, autoexpunge, "0")           \
	X(UINT, autoexpunge_max_mails, "0") \
	X(STR, comment, "")

/* `passdb { }` and `userdb { }`. */
#define ROOST_AUTHDB_SETTINGS(X)                \
	X(STR, driver, "")                      \
	X(STR, args, "")                        \
	X(STR, default_fields, "")              \
	X(STR, override_fields, "")             \
	X(ENUM, skip, "never")                  \
	X(STR, result_success, "return-ok")     \
	X(STR, result_failure, "continue")      \
	X(STR, result_internalfail, "continue") \
	X(BOOL, deny, "no")                     \
	X(BOOL, master, "no")                   \
	X(BOOL, pass, "no")                     \
	X(STR, auth_verbose, "default")
