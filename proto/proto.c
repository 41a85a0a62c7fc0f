/* SPDX-License-Identifier: MIT */
/*
 * proto: the only code that reads or writes wire bytes. Every field goes
 * through the little-endian helpers below, in the order of PROTOCOL.md's
 * tables. A message's size follows from its header (and, for LIST_RESP, its
 * count) and is checked before a byte of its body is read; the cursors
 * check every access again, so a mistake here costs an error, not memory.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "proto.h"

/* Body sizes on the wire: the sums of PROTOCOL.md's tables. */
#define PROTO_LIST_REQ_WIRE 4
#define PROTO_LIST_RESP_WIRE 8 /* then count entries */
#define PROTO_EXPORT_INFO_WIRE (PROTO_NAME_MAX + 8 + 4 + 4)
#define PROTO_OPEN_REQ_WIRE (PROTO_NAME_MAX + 8 + 8 + 4)
#define PROTO_GRANT_WIRE (4 * 8 + 4 * 4) /* version 1; version 2 adds place */
#define PROTO_GRANT_V2_WIRE (PROTO_GRANT_WIRE + 4)
#define PROTO_SMALL_WIRE (2 * 8 + 2 * 4) /* then length bytes of data, where carried */
#define PROTO_CLOSE_WIRE 8
#define PROTO_COMMIT_WIRE (3 * 8)
#define PROTO_STAT_REQ_WIRE PROTO_NAME_MAX
#define PROTO_STAT_RESP_WIRE (PROTO_NAME_MAX + PROTO_PATH_MAX + 8 + 6 * 4 + 8)
#define PROTO_STAT_RESP_V4_WIRE (PROTO_STAT_RESP_WIRE + 4) /* adds flush */
#define PROTO_REVOKE_WIRE (8 + 4 + PROTO_TEXT_MAX)
#define PROTO_ERROR_WIRE (4 + PROTO_TEXT_MAX)
#define PROTO_LIST_RESP_MAX_WIRE (PROTO_LIST_RESP_WIRE + PROTO_LIST_MAX * PROTO_EXPORT_INFO_WIRE)

/* Linux errno values are 1..4095 (MAX_ERRNO); anything else is not one. */
#define PROTO_ERRNO_MAX 4095

/*
 * The numbers PROTOCOL.md gives for version 1. A constant of proto.h that
 * moves under them changes the wire: fix the spec and bump the version.
 */
_Static_assert(PROTO_VERSION == 4 && PROTO_VERSION_MIN == 1,
	       "the tables below are versions 1 to 4 (3 changes no message)");
_Static_assert(PROTO_MAGIC == 0x524d4c53u, "magic: the bytes SLMR");
_Static_assert(PROTO_MSG_MAX == 4096, "receive buffers: 4096 bytes");
_Static_assert(PROTO_HDR_SIZE == 16, "header: 16 bytes");
_Static_assert(PROTO_CONN_PRIV_SIZE == 16, "private data: 16 bytes");
_Static_assert(PROTO_EXPORT_INFO_WIRE == 80, "LIST_RESP entry: 80 bytes");
_Static_assert(PROTO_OPEN_REQ_WIRE == 84, "OPEN_REQ body: 84 bytes");
_Static_assert(PROTO_GRANT_WIRE == 48, "GRANT body: 48 bytes in version 1");
_Static_assert(PROTO_GRANT_V2_WIRE == 52, "GRANT body: 52 bytes in version 2");
_Static_assert(PROTO_SMALL_WIRE == 24, "WRITE_SMALL/READ_SMALL fixed body: 24 bytes");
_Static_assert(PROTO_HDR_SIZE + PROTO_SMALL_WIRE + PROTO_SMALL_MAX == PROTO_MSG_MAX,
	       "a full WRITE_SMALL_REQ or READ_SMALL_RESP fills a receive buffer");
_Static_assert(PROTO_STAT_REQ_WIRE == 64, "STAT_REQ body: 64 bytes");
_Static_assert(PROTO_STAT_RESP_WIRE == 360, "STAT_RESP body: 360 bytes");
_Static_assert(PROTO_STAT_RESP_V4_WIRE == 364, "STAT_RESP body: 364 bytes in version 4");
_Static_assert(PROTO_REVOKE_WIRE == 268, "REVOKE body: 268 bytes");
_Static_assert(PROTO_ERROR_WIRE == 260, "ERROR body: 260 bytes");
_Static_assert(PROTO_LIST_MAX == 32, "LIST_RESP: at most 32 entries");
/* rdma_connect carries at most 56 bytes on RoCE; the largest messages fit a RECV. */
_Static_assert(PROTO_CONN_PRIV_V3_SIZE <= 56, "private data too large");
_Static_assert(PROTO_CONN_PRIV_V3_SIZE == 40, "version 3 private data: 40 bytes");
_Static_assert(PROTO_HDR_SIZE + PROTO_LIST_RESP_MAX_WIRE <= PROTO_MSG_MAX, "LIST_RESP too large");
_Static_assert(PROTO_HDR_SIZE + PROTO_STAT_RESP_V4_WIRE <= PROTO_MSG_MAX, "STAT_RESP too large");
_Static_assert(PROTO_MSG_MAX <= UINT16_MAX, "type sizes are kept in 16 bits");

static void proto_put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void proto_put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void proto_put_le64(unsigned char *p, uint64_t v)
{
	proto_put_le32(p, (uint32_t)v);
	proto_put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t proto_get_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t proto_get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t proto_get_le64(const unsigned char *p)
{
	return proto_get_le32(p) | (uint64_t)proto_get_le32(p + 4) << 32;
}

/* Write cursor. Once it overruns, every later put is a no-op. */
struct proto_wr {
	unsigned char *p;
	size_t size;
	size_t off;
	bool overrun;
};

static unsigned char *proto_wr_take(struct proto_wr *w, size_t n)
{
	unsigned char *at;

	if (w->overrun || w->size - w->off < n) {
		w->overrun = true;
		return NULL;
	}
	at = w->p + w->off;
	w->off += n;
	return at;
}

static void proto_wr_u32(struct proto_wr *w, uint32_t v)
{
	unsigned char *at = proto_wr_take(w, 4);

	if (at)
		proto_put_le32(at, v);
}

static void proto_wr_u64(struct proto_wr *w, uint64_t v)
{
	unsigned char *at = proto_wr_take(w, 8);

	if (at)
		proto_put_le64(at, v);
}

/*
 * The padding is zeroed whatever follows the NUL in memory: one message has
 * one encoding, and no stale bytes of the sender's leave with it.
 */
static void proto_wr_str(struct proto_wr *w, const char *s, size_t field)
{
	unsigned char *at = proto_wr_take(w, field);
	size_t n;

	if (!at)
		return;
	n = strnlen(s, field);
	memcpy(at, s, n);
	memset(at + n, 0, field - n);
}

/* Read cursor over exactly the bytes received. */
struct proto_rd {
	const unsigned char *p;
	size_t len;
	size_t off;
	bool bad;
};

static const unsigned char *proto_rd_take(struct proto_rd *r, size_t n)
{
	const unsigned char *at;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return NULL;
	}
	at = r->p + r->off;
	r->off += n;
	return at;
}

static uint32_t proto_rd_u32(struct proto_rd *r)
{
	const unsigned char *at = proto_rd_take(r, 4);

	return at ? proto_get_le32(at) : 0;
}

static uint64_t proto_rd_u64(struct proto_rd *r)
{
	const unsigned char *at = proto_rd_take(r, 8);

	return at ? proto_get_le64(at) : 0;
}

/*
 * A string field holds a NUL and nothing but NULs after it: the encoder
 * never sends anything else, so anything else is not from a sealmr peer,
 * and accepting it would give one message two encodings.
 */
static void proto_rd_str(struct proto_rd *r, char *dst, size_t field)
{
	const unsigned char *at = proto_rd_take(r, field);
	const unsigned char *nul;

	if (!at)
		return;
	nul = memchr(at, '\0', field);
	if (!nul) {
		r->bad = true;
		return;
	}
	for (const unsigned char *q = nul; q < at + field; q++) {
		if (*q) {
			r->bad = true;
			return;
		}
	}
	memcpy(dst, at, field);
}

/*
 * A body's fixed part, field by field in wire order: one table drives both
 * its encoder and its decoder, so that the two cannot disagree. Offsets are
 * within the type's member of proto_msg's union, which every member starts.
 */
enum proto_field_kind { PROTO_F_U32, PROTO_F_U64, PROTO_F_STR };

struct proto_field {
	uint8_t kind;
	uint8_t since; /* the first version that carries it */
	uint16_t size; /* the member's; a string's is its width on the wire */
	uint16_t off;
};

/* A number member of another width than its kind's fails the build (the
 * kernel's BUILD_BUG_ON_ZERO: a negative array size). */
#define PROTO_F_WIDTH_OK(kind, type, member)                                                       \
	(0 *                                                                                       \
	 sizeof(                                                                                   \
	     char[PROTO_F_##kind == PROTO_F_STR || sizeof(((struct type *)0)->member) ==           \
						       (PROTO_F_##kind == PROTO_F_U32 ? 4u : 8u)   \
		      ? 1                                                                          \
		      : -1]))
#define PROTO_F(kind, type, member, since)                                                         \
	{                                                                                          \
		PROTO_F_##kind, since, sizeof(((struct type *)0)->member),                         \
		    offsetof(struct type, member) + PROTO_F_WIDTH_OK(kind, type, member)           \
	}
#define PROTO_FIELDS(table) table, sizeof(table) / sizeof(table[0])

/* clang-format off: each body's fields in wire order; F names its struct once */
#define F(kind, member, since) PROTO_F(kind, proto_list_req, member, since)
static const struct proto_field proto_list_req_f[] = { F(U32, start, 1) };
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_list_resp, member, since)
static const struct proto_field proto_list_resp_f[] = { F(U32, total, 1), F(U32, count, 1) };
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_export_info, member, since)
static const struct proto_field proto_export_info_f[] = {
	F(STR, name, 1), F(U64, size, 1), F(U32, access, 1), F(U32, mode, 1),
};
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_open_req, member, since)
static const struct proto_field proto_open_req_f[] = {
	F(STR, export, 1), F(U64, offset, 1), F(U64, length, 1), F(U32, access, 1),
};
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_grant, member, since)
static const struct proto_field proto_grant_f[] = {
	F(U64, grant_id, 1), F(U64, addr, 1), F(U64, offset, 1), F(U64, length, 1),
	F(U32, rkey, 1), F(U32, access, 1), F(U32, persist, 1), F(U32, flush, 1), F(U32, place, 2),
};
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_close_req, member, since)
static const struct proto_field proto_close_f[] = { F(U64, grant_id, 1) };
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_commit_req, member, since)
static const struct proto_field proto_commit_f[] = {
	F(U64, grant_id, 1), F(U64, offset, 1), F(U64, length, 1),
};
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_stat_req, member, since)
static const struct proto_field proto_stat_req_f[] = { F(STR, export, 1) };
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_stat_resp, member, since)
static const struct proto_field proto_stat_resp_f[] = {
	F(STR, name, 1), F(STR, path, 1), F(U64, size, 1), F(U32, access, 1), F(U32, mode, 1),
	F(U32, reg, 1), F(U32, persist, 1), F(U32, grants, 1), F(U32, sealed, 1),
	F(U64, commits, 1), F(U32, flush, 4),
};
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_small, member, since)
static const struct proto_field proto_small_f[] = {
	F(U64, grant_id, 1), F(U64, offset, 1), F(U32, length, 1), F(U32, flags, 1),
};
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_revoke, member, since)
static const struct proto_field proto_revoke_f[] = {
	F(U64, grant_id, 1), F(U32, reason, 1), F(STR, text, 1),
};
#undef F
#define F(kind, member, since) PROTO_F(kind, proto_error, member, since)
static const struct proto_field proto_error_f[] = { F(U32, err, 1), F(STR, text, 1) };
#undef F
/* clang-format on */

static void proto_wr_field(struct proto_wr *w, const struct proto_field *f, const void *at)
{
	if (f->kind == PROTO_F_U32)
		proto_wr_u32(w, *(const uint32_t *)at);
	else if (f->kind == PROTO_F_U64)
		proto_wr_u64(w, *(const uint64_t *)at);
	else
		proto_wr_str(w, at, f->size);
}

static void proto_rd_field(struct proto_rd *r, const struct proto_field *f, void *at)
{
	if (f->kind == PROTO_F_U32)
		*(uint32_t *)at = proto_rd_u32(r);
	else if (f->kind == PROTO_F_U64)
		*(uint64_t *)at = proto_rd_u64(r);
	else
		proto_rd_str(r, at, f->size);
}

static void proto_wr_fields(struct proto_wr *w, const void *from, const struct proto_field *f,
			    size_t n, uint16_t version)
{
	for (; n; n--, f++)
		if (version >= f->since)
			proto_wr_field(w, f, (const unsigned char *)from + f->off);
}

static void proto_rd_fields(struct proto_rd *r, void *to, const struct proto_field *f, size_t n,
			    uint16_t version)
{
	for (; n; n--, f++)
		if (version >= f->since)
			proto_rd_field(r, f, (unsigned char *)to + f->off);
}

/*
 * What the codec knows of each type: its name, the first version that has
 * it, its body's fixed part (GRANT's grows in version 2, STAT_RESP's in
 * version 4; LIST_RESP is followed by count entries, WRITE_SMALL_REQ and
 * READ_SMALL_RESP by length bytes of data) and that part's fields. The
 * sizes are PROTOCOL.md's, kept apart from the fields so that proto_encode
 * can hold each against the other.
 */
struct proto_type_info {
	uint16_t type;
	uint16_t body;
	uint16_t since;
	const char *name;
	const struct proto_field *fields;
	size_t nfields;
};

static const struct proto_type_info proto_types[] = {
    {PROTO_LIST_REQ, PROTO_LIST_REQ_WIRE, 1, "LIST_REQ", PROTO_FIELDS(proto_list_req_f)},
    {PROTO_OPEN_REQ, PROTO_OPEN_REQ_WIRE, 1, "OPEN_REQ", PROTO_FIELDS(proto_open_req_f)},
    {PROTO_CLOSE_REQ, PROTO_CLOSE_WIRE, 1, "CLOSE_REQ", PROTO_FIELDS(proto_close_f)},
    {PROTO_COMMIT_REQ, PROTO_COMMIT_WIRE, 1, "COMMIT_REQ", PROTO_FIELDS(proto_commit_f)},
    {PROTO_STAT_REQ, PROTO_STAT_REQ_WIRE, 1, "STAT_REQ", PROTO_FIELDS(proto_stat_req_f)},
    {PROTO_WRITE_SMALL_REQ, PROTO_SMALL_WIRE, 2, "WRITE_SMALL_REQ", PROTO_FIELDS(proto_small_f)},
    {PROTO_READ_SMALL_REQ, PROTO_SMALL_WIRE, 2, "READ_SMALL_REQ", PROTO_FIELDS(proto_small_f)},
    {PROTO_LIST_RESP, PROTO_LIST_RESP_WIRE, 1, "LIST_RESP", PROTO_FIELDS(proto_list_resp_f)},
    {PROTO_GRANT, PROTO_GRANT_WIRE, 1, "GRANT", PROTO_FIELDS(proto_grant_f)},
    {PROTO_CLOSE_RESP, PROTO_CLOSE_WIRE, 1, "CLOSE_RESP", PROTO_FIELDS(proto_close_f)},
    {PROTO_COMMIT_RESP, PROTO_COMMIT_WIRE, 1, "COMMIT_RESP", PROTO_FIELDS(proto_commit_f)},
    {PROTO_STAT_RESP, PROTO_STAT_RESP_WIRE, 1, "STAT_RESP", PROTO_FIELDS(proto_stat_resp_f)},
    {PROTO_WRITE_SMALL_RESP, PROTO_SMALL_WIRE, 2, "WRITE_SMALL_RESP", PROTO_FIELDS(proto_small_f)},
    {PROTO_READ_SMALL_RESP, PROTO_SMALL_WIRE, 2, "READ_SMALL_RESP", PROTO_FIELDS(proto_small_f)},
    {PROTO_REVOKE, PROTO_REVOKE_WIRE, 1, "REVOKE", PROTO_FIELDS(proto_revoke_f)},
    {PROTO_ERROR, PROTO_ERROR_WIRE, 1, "ERROR", PROTO_FIELDS(proto_error_f)},
};

static const struct proto_type_info *proto_type_info(uint16_t type)
{
	for (size_t i = 0; i < sizeof(proto_types) / sizeof(proto_types[0]); i++)
		if (proto_types[i].type == type)
			return &proto_types[i];
	return NULL;
}

static bool proto_small_has_data(uint16_t type)
{
	return type == PROTO_WRITE_SMALL_REQ || type == PROTO_READ_SMALL_RESP;
}

/*
 * Body size of a known type in a version: n is LIST_RESP's count or, for a
 * small message with data, its length (both checked against their bounds
 * by the caller).
 */
static size_t proto_body_size(const struct proto_type_info *t, uint16_t version, uint32_t n)
{
	if (t->type == PROTO_LIST_RESP)
		return t->body + (size_t)n * PROTO_EXPORT_INFO_WIRE;
	if (t->type == PROTO_GRANT && version >= 2)
		return PROTO_GRANT_V2_WIRE;
	if (t->type == PROTO_STAT_RESP && version >= 4)
		return PROTO_STAT_RESP_V4_WIRE;
	if (proto_small_has_data(t->type))
		return t->body + (size_t)n;
	return t->body;
}

/* The version-dependent count that sizes a message (see proto_body_size). */
static uint32_t proto_msg_count(const struct proto_msg *m)
{
	if (m->hdr.type == PROTO_LIST_RESP)
		return m->u.list_resp.count;
	if (proto_small_has_data(m->hdr.type))
		return m->u.small.length;
	return 0;
}

#define PROTO_STR_OK(field) (memchr((field), '\0', sizeof(field)) != NULL)

static bool proto_access_ok(uint32_t access)
{
	return access && !(access & ~(uint32_t)(PROTO_ACCESS_READ | PROTO_ACCESS_WRITE));
}

static bool proto_mode_ok(uint32_t mode)
{
	return mode == PROTO_MODE_DAX || mode == PROTO_MODE_PAGECACHE;
}

static bool proto_persist_ok(uint32_t persist)
{
	return persist == PROTO_PERSIST_PMEM || persist == PROTO_PERSIST_PAGECACHE;
}

static bool proto_list_resp_ok(const struct proto_list_resp *r)
{
	if (r->count > PROTO_LIST_MAX || r->count > r->total)
		return false;
	for (uint32_t i = 0; i < r->count; i++) {
		const struct proto_export_info *e = &r->exports[i];

		if (!PROTO_STR_OK(e->name) || !proto_access_ok(e->access) ||
		    !proto_mode_ok(e->mode))
			return false;
	}
	return true;
}

/* COMMIT is the flush every daemon offers; RDMA FLUSH is an extra. */
static bool proto_flush_ok(uint32_t flush)
{
	return (flush & PROTO_FLUSH_COMMIT) &&
	       !(flush & ~(uint32_t)(PROTO_FLUSH_COMMIT | PROTO_FLUSH_RDMA_FLUSH));
}

static bool proto_grant_ok(const struct proto_grant *g, uint16_t version)
{
	return proto_access_ok(g->access) && proto_persist_ok(g->persist) &&
	       proto_flush_ok(g->flush) &&
	       (version < 2 || g->place == PROTO_PLACE_EXACT || g->place == PROTO_PLACE_PAGE);
}

static bool proto_small_ok(const struct proto_small *s)
{
	return s->length >= 1 && s->length <= PROTO_SMALL_MAX && s->flags == 0;
}

static bool proto_stat_resp_ok(const struct proto_stat_resp *s, uint16_t version)
{
	return PROTO_STR_OK(s->name) && PROTO_STR_OK(s->path) && proto_access_ok(s->access) &&
	       proto_mode_ok(s->mode) && (s->reg == PROTO_REG_ODP || s->reg == PROTO_REG_PINNED) &&
	       proto_persist_ok(s->persist) && s->sealed <= 1 &&
	       (version < 4 || proto_flush_ok(s->flush));
}

/*
 * What no peer may send. The encoder refuses it too, so that a bug of ours
 * shows at the sender, which can log it, rather than as a peer's EBADMSG.
 */
static bool proto_msg_ok(const struct proto_msg *m, uint16_t version)
{
	switch (m->hdr.type) {
	case PROTO_WRITE_SMALL_REQ:
	case PROTO_WRITE_SMALL_RESP:
	case PROTO_READ_SMALL_REQ:
	case PROTO_READ_SMALL_RESP:
		return proto_small_ok(&m->u.small);
	case PROTO_LIST_REQ:
	case PROTO_CLOSE_REQ:
	case PROTO_CLOSE_RESP:
	case PROTO_COMMIT_REQ:
	case PROTO_COMMIT_RESP:
		return true;
	case PROTO_LIST_RESP:
		return proto_list_resp_ok(&m->u.list_resp);
	case PROTO_OPEN_REQ:
		return PROTO_STR_OK(m->u.open_req.export) && proto_access_ok(m->u.open_req.access);
	case PROTO_GRANT:
		return proto_grant_ok(&m->u.grant, version);
	case PROTO_STAT_REQ:
		return PROTO_STR_OK(m->u.stat_req.export);
	case PROTO_STAT_RESP:
		return proto_stat_resp_ok(&m->u.stat_resp, version);
	case PROTO_REVOKE:
		/* Unsolicited: a req_id would make it a reply to something. */
		return m->hdr.req_id == 0 && m->u.revoke.reason >= PROTO_REVOKE_ADMIN &&
		       m->u.revoke.reason <= PROTO_REVOKE_SHUTDOWN &&
		       PROTO_STR_OK(m->u.revoke.text);
	case PROTO_ERROR:
		return m->u.error.err > 0 && m->u.error.err <= PROTO_ERRNO_MAX &&
		       PROTO_STR_OK(m->u.error.text);
	default:
		return false;
	}
}

/* The fields, then what follows them: LIST_RESP's entries, a small message's data. */
static void proto_enc_body(struct proto_wr *w, const struct proto_msg *m,
			   const struct proto_type_info *t, uint16_t version)
{
	unsigned char *at;

	proto_wr_fields(w, &m->u, t->fields, t->nfields, version);
	if (m->hdr.type == PROTO_LIST_RESP) {
		for (uint32_t i = 0; i < m->u.list_resp.count; i++)
			proto_wr_fields(w, &m->u.list_resp.exports[i],
					PROTO_FIELDS(proto_export_info_f), version);
	} else if (proto_small_has_data(m->hdr.type)) {
		at = proto_wr_take(w, m->u.small.length);
		if (at)
			memcpy(at, m->u.small.data, m->u.small.length);
	}
}

ssize_t proto_encode(const struct proto_msg *msg, void *buf, size_t size)
{
	struct proto_wr w = { .p = buf, .size = size, .off = PROTO_HDR_SIZE };
	uint16_t version = msg->hdr.version ? msg->hdr.version : PROTO_VERSION;
	const struct proto_type_info *t = proto_type_info(msg->hdr.type);
	unsigned char *p = buf;
	size_t len;

	if (version < PROTO_VERSION_MIN || version > PROTO_VERSION || !t || t->since > version)
		return -EINVAL;
	/* Checks the count or length too, so the size below cannot overflow. */
	if (!proto_msg_ok(msg, version))
		return -EINVAL;
	len = PROTO_HDR_SIZE + proto_body_size(t, version, proto_msg_count(msg));
	if (size < len)
		return -ENOBUFS;
	proto_put_le32(p, PROTO_MAGIC);
	proto_put_le16(p + 4, version);
	proto_put_le16(p + 6, msg->hdr.type);
	proto_put_le32(p + 8, (uint32_t)len);
	proto_put_le32(p + 12, msg->hdr.req_id);
	proto_enc_body(&w, msg, t, version);
	/* The size table and the encoders disagreeing is our bug: send nothing. */
	if (w.overrun || w.off != len)
		return -EINVAL;
	return (ssize_t)len;
}

/* The fields, then what follows them, each bounded before it is read. */
static void proto_dec_body(struct proto_rd *r, struct proto_msg *m, const struct proto_type_info *t)
{
	const unsigned char *at;

	proto_rd_fields(r, &m->u, t->fields, t->nfields, m->hdr.version);
	if (m->hdr.type == PROTO_LIST_RESP) {
		if (m->u.list_resp.count > PROTO_LIST_MAX) {
			r->bad = true;
			return;
		}
		for (uint32_t i = 0; i < m->u.list_resp.count; i++)
			proto_rd_fields(r, &m->u.list_resp.exports[i],
					PROTO_FIELDS(proto_export_info_f), m->hdr.version);
	} else if (proto_small_has_data(m->hdr.type)) {
		if (m->u.small.length > PROTO_SMALL_MAX) {
			r->bad = true;
			return;
		}
		at = proto_rd_take(r, m->u.small.length);
		if (at)
			memcpy(m->u.small.data, at, m->u.small.length);
	} else if (m->hdr.type == PROTO_STAT_RESP && m->hdr.version < 4) {
		/* Before version 4 the commit was the only flush there was. */
		m->u.stat_resp.flush = PROTO_FLUSH_COMMIT;
	}
}

/*
 * The header's layout is the same in every version, so the version is read
 * and judged before anything whose meaning a version could change.
 */
static int proto_check_hdr(const struct proto_hdr *h, size_t len)
{
	const struct proto_type_info *t;

	if (h->magic != PROTO_MAGIC || h->length != len || len > PROTO_MSG_MAX)
		return -EBADMSG;
	if (h->version < PROTO_VERSION_MIN || h->version > PROTO_VERSION)
		return -EPROTONOSUPPORT;
	t = proto_type_info(h->type);
	if (!t || t->since > h->version)
		return -EPROTO;
	return 0;
}

/*
 * len must be exactly the type's size in its version; LIST_RESP's depends
 * on its count, a small message's with data on its length.
 */
static int proto_check_len(const unsigned char *p, size_t len, const struct proto_hdr *h)
{
	uint32_t n = 0;

	if (h->type == PROTO_LIST_RESP) {
		if (len < PROTO_HDR_SIZE + PROTO_LIST_RESP_WIRE)
			return -EBADMSG;
		n = proto_get_le32(p + PROTO_HDR_SIZE + 4);
		if (n > PROTO_LIST_MAX)
			return -EBADMSG;
	} else if (proto_small_has_data(h->type)) {
		if (len < PROTO_HDR_SIZE + PROTO_SMALL_WIRE)
			return -EBADMSG;
		n = proto_get_le32(p + PROTO_HDR_SIZE + 16);
		if (n > PROTO_SMALL_MAX)
			return -EBADMSG;
	}
	return len == PROTO_HDR_SIZE + proto_body_size(proto_type_info(h->type), h->version, n)
		       ? 0
		       : -EBADMSG;
}

int proto_decode(const void *buf, size_t len, struct proto_msg *out)
{
	struct proto_rd r = { .p = buf, .len = len, .off = PROTO_HDR_SIZE };
	const unsigned char *p = buf;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < PROTO_HDR_SIZE)
		return -EBADMSG;
	/* Filled in before any check: the caller answers with its req_id. */
	out->hdr.magic = proto_get_le32(p);
	out->hdr.version = proto_get_le16(p + 4);
	out->hdr.type = proto_get_le16(p + 6);
	out->hdr.length = proto_get_le32(p + 8);
	out->hdr.req_id = proto_get_le32(p + 12);
	rc = proto_check_hdr(&out->hdr, len);
	if (rc)
		return rc;
	rc = proto_check_len(p, len, &out->hdr);
	if (rc)
		return rc;
	proto_dec_body(&r, out, proto_type_info(out->hdr.type));
	if (r.bad || r.off != len || !proto_msg_ok(out, out->hdr.version)) {
		/* Half a message is no message: the caller sees none of it. */
		memset(&out->u, 0, sizeof(out->u));
		return -EBADMSG;
	}
	return 0;
}

void proto_conn_priv_encode(const struct proto_conn_priv *priv, void *buf)
{
	unsigned char *p = buf;

	proto_put_le32(p, PROTO_MAGIC);
	proto_put_le16(p + 4, priv->version);
	proto_put_le16(p + 6, priv->credits);
	proto_put_le32(p + 8, (uint32_t)priv->status);
	proto_put_le32(p + 12, priv->max_msg);
}

/*
 * Only the magic is judged: the caller must see another version to say
 * which one the peer speaks. rdma_cm may hand over more bytes than were
 * sent (padded to its maximum); the rest is ignored.
 */
int proto_conn_priv_decode(const void *buf, size_t len, struct proto_conn_priv *out)
{
	const unsigned char *p = buf;

	if (!p || len < PROTO_CONN_PRIV_SIZE || proto_get_le32(p) != PROTO_MAGIC)
		return -EBADMSG;
	out->version = proto_get_le16(p + 4);
	out->credits = proto_get_le16(p + 6);
	out->status = (int32_t)proto_get_le32(p + 8);
	out->max_msg = proto_get_le32(p + 12);
	return 0;
}

void proto_session_priv_encode(const struct proto_session_priv *s, void *buf)
{
	unsigned char *p = (unsigned char *)buf + PROTO_CONN_PRIV_SIZE;

	proto_put_le64(p, s->session);
	proto_put_le64(p + 8, s->token);
	proto_put_le16(p + 16, s->qps);
	memset(p + 18, 0, PROTO_SESSION_PRIV_SIZE - 18);
}

int proto_session_priv_decode(const void *buf, size_t len, struct proto_session_priv *out)
{
	const unsigned char *p = buf;

	if (!p || len < PROTO_CONN_PRIV_V3_SIZE)
		return -EBADMSG;
	p += PROTO_CONN_PRIV_SIZE;
	out->session = proto_get_le64(p);
	out->token = proto_get_le64(p + 8);
	out->qps = proto_get_le16(p + 16);
	return 0;
}

const char *proto_type_name(uint16_t type)
{
	const struct proto_type_info *t = proto_type_info(type);

	return t ? t->name : "unknown";
}

static const char *const proto_revoke_reasons[] = {
	[PROTO_REVOKE_ADMIN] = "revoked by the administrator",
	[PROTO_REVOKE_EXPORT_REMOVED] = "export removed",
	[PROTO_REVOKE_FILE_CHANGED] = "file changed under the seal",
	[PROTO_REVOKE_SHUTDOWN] = "daemon shutting down",
};

const char *proto_revoke_reason_name(uint32_t reason)
{
	if (reason >= sizeof(proto_revoke_reasons) / sizeof(proto_revoke_reasons[0]) ||
	    !proto_revoke_reasons[reason])
		return "unknown reason";
	return proto_revoke_reasons[reason];
}
