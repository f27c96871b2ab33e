/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libcurl, libarchive and libvirt, loaded with dlopen() on first use: one
 * table of function pointers each.  Internal to libcapstan (src/lib only).
 */
#ifndef CAPSTAN_LAZYLIB_H
#define CAPSTAN_LAZYLIB_H

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#if HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif

/*
 * Linked in, libcurl (gnutls, krb5, ldap, nghttp2...), libarchive (libxml2,
 * ICU, libstdc++...) and libvirt (glib, gnutls, libxml2...) cost every capstan
 * command milliseconds of dynamic loading, though few commands use them.
 * Callers call the *_load() function first, then go through the table:
 * cap_curl.curl_easy_init() etc.
 * The headers still declare every function, so __typeof__ keeps the
 * pointer types checked.  curl's type-checking setopt/getinfo macros would
 * call the real symbols, so they are dropped here.
 */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#define CAP_CURL_FUNCS(X)                                                                          \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_init)                                                                          \
	X(curl_easy_perform)                                                                       \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_strerror)                                                                      \
	X(curl_easy_unescape)                                                                      \
	X(curl_free)                                                                               \
	X(curl_global_init)                                                                        \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)

#define CAP_ARCHIVE_FUNCS(X)                                                                       \
	X(archive_entry_clear)                                                                     \
	X(archive_entry_free)                                                                      \
	X(archive_entry_new)                                                                       \
	X(archive_entry_set_filetype)                                                              \
	X(archive_entry_set_gid)                                                                   \
	X(archive_entry_set_gname)                                                                 \
	X(archive_entry_set_ino64)                                                                 \
	X(archive_entry_set_mode)                                                                  \
	X(archive_entry_set_mtime)                                                                 \
	X(archive_entry_set_nlink)                                                                 \
	X(archive_entry_set_pathname)                                                              \
	X(archive_entry_set_perm)                                                                  \
	X(archive_entry_set_size)                                                                  \
	X(archive_entry_set_symlink)                                                               \
	X(archive_entry_set_uid)                                                                   \
	X(archive_entry_set_uname)                                                                 \
	X(archive_error_string)                                                                    \
	X(archive_set_error)                                                                       \
	X(archive_write_add_filter_gzip)                                                           \
	X(archive_write_close)                                                                     \
	X(archive_write_data)                                                                      \
	X(archive_write_free)                                                                      \
	X(archive_write_header)                                                                    \
	X(archive_write_new)                                                                       \
	X(archive_write_open2)                                                                     \
	X(archive_write_open_fd)                                                                   \
	X(archive_write_set_bytes_in_last_block)                                                   \
	X(archive_write_set_bytes_per_block)                                                       \
	X(archive_write_set_filter_option)                                                         \
	X(archive_write_set_format_cpio_newc)                                                      \
	X(archive_write_set_format_gnutar)

#define CAP_LIBVIRT_FUNCS(X)                                                                       \
	X(virConnectClose)                                                                         \
	X(virConnectGetType)                                                                       \
	X(virConnectOpen)                                                                          \
	X(virDomainCreate)                                                                         \
	X(virDomainDefineXML)                                                                      \
	X(virDomainDestroy)                                                                        \
	X(virDomainFree)                                                                           \
	X(virDomainGetState)                                                                       \
	X(virDomainGetUUIDString)                                                                  \
	X(virDomainIsActive)                                                                       \
	X(virDomainLookupByName)                                                                   \
	X(virDomainLookupByUUIDString)                                                             \
	X(virDomainShutdown)                                                                       \
	X(virDomainUndefine)                                                                       \
	X(virGetLastErrorMessage)                                                                  \
	X(virSetErrorFunc)

#define CAP_LAZY_FIELD(f) __typeof__(f) *f;
struct cap_curl_fns {
	CAP_CURL_FUNCS(CAP_LAZY_FIELD)
};
struct cap_archive_fns {
	CAP_ARCHIVE_FUNCS(CAP_LAZY_FIELD)
};
#if HAVE_LIBVIRT
struct cap_libvirt_fns {
	CAP_LIBVIRT_FUNCS(CAP_LAZY_FIELD)
};
extern struct cap_libvirt_fns cap_libvirt;
#endif
#undef CAP_LAZY_FIELD

extern struct cap_curl_fns cap_curl;
extern struct cap_archive_fns cap_archive;

/*
 * Each returns 0 once the library is loaded (the first call loads it, later
 * calls are cheap), or -CAP_E_UNAVAIL with the message recorded, every time.
 */
int cap_curl_load(void); /* also runs curl_global_init once */
int cap_archive_load(void);
#if HAVE_LIBVIRT
int cap_libvirt_load(void);
#endif

#endif
