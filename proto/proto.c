/* SPDX-License-Identifier: MIT */
/*
 * The only code that reads or writes wire bytes. Little-endian, fixed
 * fields, every length checked before a byte is read.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "proto.h"

#define PROTO_EXPORT_INFO_SIZE (PROTO_NAME_MAX + 8 + 4 + 4)

/* Body sizes on the wire; LIST_RESP adds PROTO_EXPORT_INFO_SIZE per entry. */
#define PROTO_LIST_REQ_SIZE 4
#define PROTO_LIST_RESP_SIZE 8
#define PROTO_OPEN_REQ_SIZE (PROTO_NAME_MAX + 8 + 8 + 4)
#define PROTO_GRANT_SIZE (8 * 4 + 4 * 4)
#define PROTO_CLOSE_SIZE 8
#define PROTO_COMMIT_SIZE 24
#define PROTO_STAT_REQ_SIZE PROTO_NAME_MAX
#define PROTO_STAT_RESP_SIZE (PROTO_NAME_MAX + PROTO_PATH_MAX + 8 + 6 * 4 + 8)
#define PROTO_REVOKE_SIZE (8 + 4 + PROTO_TEXT_MAX)
#define PROTO_ERROR_SIZE (4 + PROTO_TEXT_MAX)

_Static_assert(PROTO_HDR_SIZE + PROTO_LIST_RESP_SIZE + PROTO_LIST_MAX * PROTO_EXPORT_INFO_SIZE <=
		       PROTO_MSG_MAX, "LIST_RESP must fit a receive buffer");
_Static_assert(PROTO_HDR_SIZE + PROTO_STAT_RESP_SIZE <= PROTO_MSG_MAX, "STAT_RESP too large");
_Static_assert(PROTO_CONN_PRIV_SIZE <= 56, "rdma_connect private data on RoCE is 56 bytes");

/* A cursor over a buffer: every get/put checks the bound first. */
struct proto_cur {
	unsigned char *p;
	size_t len;
	size_t off;
	int bad;
};

static void put8n(struct proto_cur *c, const void *src, size_t n)
{
	if (c->bad)
		return;
	if (c->len - c->off < n) {
		c->bad = 1;
		return;
	}
	memcpy(c->p + c->off, src, n);
	c->off += n;
}

static void put_le(struct proto_cur *c, uint64_t v, unsigned bytes)
{
	unsigned char b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put8n(c, b, bytes);
}

static void put_str(struct proto_cur *c, const char *s, size_t field)
{
	size_t n = strnlen(s, field);

	/* A string must leave room for its NUL. */
	if (c->bad)
		return;
	if (n == field) {
		c->bad = 2;
		return;
	}
	put8n(c, s, n);
	for (; n < field; n++)
		put_le(c, 0, 1);
}

static uint64_t get_le(struct proto_cur *c, unsigned bytes)
{
	uint64_t v = 0;

	if (c->bad)
		return 0;
	if (c->len - c->off < bytes) {
		c->bad = 1;
		return 0;
	}
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)c->p[c->off + i] << (8 * i);
	c->off += bytes;
	return v;
}

static void get_str(struct proto_cur *c, char *dst, size_t field)
{
	if (c->bad)
		return;
	if (c->len - c->off < field) {
		c->bad = 1;
		return;
	}
	if (!memchr(c->p + c->off, '\0', field)) {
		c->bad = 2;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, c->p + c->off, field);
	c->off += field;
}

#define PUT32(c, v) put_le(c, (uint32_t)(v), 4)
#define PUT64(c, v) put_le(c, (uint64_t)(v), 8)
#define GET32(c) ((uint32_t)get_le(c, 4))
#define GET64(c) get_le(c, 8)

static void proto_body(struct proto_cur *c, struct proto_msg *m, int enc)
{
	/* One description of each body, used both ways. */
#define U32(f) do { if (enc) PUT32(c, f); else f = GET32(c); } while (0)
#define U64(f) do { if (enc) PUT64(c, f); else f = GET64(c); } while (0)
#define STR(f) do { if (enc) put_str(c, f, sizeof(f)); else get_str(c, f, sizeof(f)); } while (0)
	switch (m->hdr.type) {
	case PROTO_LIST_REQ:
		U32(m->u.list_req.start);
		break;
	case PROTO_LIST_RESP:
		U32(m->u.list_resp.total);
		U32(m->u.list_resp.count);
		if (m->u.list_resp.count > PROTO_LIST_MAX) {
			c->bad = 2;
			break;
		}
		for (uint32_t i = 0; i < m->u.list_resp.count; i++) {
			struct proto_export_info *e = &m->u.list_resp.exports[i];

			STR(e->name);
			U64(e->size);
			U32(e->access);
			U32(e->mode);
		}
		break;
	case PROTO_OPEN_REQ:
		STR(m->u.open_req.export);
		U64(m->u.open_req.offset);
		U64(m->u.open_req.length);
		U32(m->u.open_req.access);
		break;
	case PROTO_GRANT:
		U64(m->u.grant.grant_id);
		U64(m->u.grant.addr);
		U64(m->u.grant.offset);
		U64(m->u.grant.length);
		U32(m->u.grant.rkey);
		U32(m->u.grant.access);
		U32(m->u.grant.persist);
		U32(m->u.grant.flush);
		break;
	case PROTO_CLOSE_REQ:
	case PROTO_CLOSE_RESP:
		U64(m->u.close_req.grant_id);
		break;
	case PROTO_COMMIT_REQ:
	case PROTO_COMMIT_RESP:
		U64(m->u.commit_req.grant_id);
		U64(m->u.commit_req.offset);
		U64(m->u.commit_req.length);
		break;
	case PROTO_STAT_REQ:
		STR(m->u.stat_req.export);
		break;
	case PROTO_STAT_RESP:
		STR(m->u.stat_resp.name);
		STR(m->u.stat_resp.path);
		U64(m->u.stat_resp.size);
		U32(m->u.stat_resp.access);
		U32(m->u.stat_resp.mode);
		U32(m->u.stat_resp.reg);
		U32(m->u.stat_resp.persist);
		U32(m->u.stat_resp.grants);
		U32(m->u.stat_resp.sealed);
		U64(m->u.stat_resp.commits);
		break;
	case PROTO_REVOKE:
		U64(m->u.revoke.grant_id);
		U32(m->u.revoke.reason);
		STR(m->u.revoke.text);
		break;
	case PROTO_ERROR:
		if (enc)
			PUT32(c, (uint32_t)m->u.error.err);
		else
			m->u.error.err = (int32_t)GET32(c);
		STR(m->u.error.text);
		break;
	default:
		c->bad = 3;
		break;
	}
#undef U32
#undef U64
#undef STR
}

static size_t proto_body_size(const struct proto_msg *m)
{
	switch (m->hdr.type) {
	case PROTO_LIST_REQ: return PROTO_LIST_REQ_SIZE;
	case PROTO_LIST_RESP:
		return PROTO_LIST_RESP_SIZE + (size_t)m->u.list_resp.count * PROTO_EXPORT_INFO_SIZE;
	case PROTO_OPEN_REQ: return PROTO_OPEN_REQ_SIZE;
	case PROTO_GRANT: return PROTO_GRANT_SIZE;
	case PROTO_CLOSE_REQ:
	case PROTO_CLOSE_RESP: return PROTO_CLOSE_SIZE;
	case PROTO_COMMIT_REQ:
	case PROTO_COMMIT_RESP: return PROTO_COMMIT_SIZE;
	case PROTO_STAT_REQ: return PROTO_STAT_REQ_SIZE;
	case PROTO_STAT_RESP: return PROTO_STAT_RESP_SIZE;
	case PROTO_REVOKE: return PROTO_REVOKE_SIZE;
	case PROTO_ERROR: return PROTO_ERROR_SIZE;
	default: return 0;
	}
}

static int proto_valid_access(uint32_t a)
{
	return a != 0 && (a & ~(uint32_t)(PROTO_ACCESS_READ | PROTO_ACCESS_WRITE)) == 0;
}

/* Enum fields a peer could set to anything: out-of-range is malformed. */
static int proto_check_values(const struct proto_msg *m)
{
	switch (m->hdr.type) {
	case PROTO_LIST_RESP:
		for (uint32_t i = 0; i < m->u.list_resp.count; i++) {
			const struct proto_export_info *e = &m->u.list_resp.exports[i];

			if (!proto_valid_access(e->access) || e->mode < PROTO_MODE_DAX ||
			    e->mode > PROTO_MODE_PAGECACHE)
				return -EBADMSG;
		}
		return m->u.list_resp.count <= m->u.list_resp.total ? 0 : -EBADMSG;
	case PROTO_OPEN_REQ:
		return proto_valid_access(m->u.open_req.access) ? 0 : -EBADMSG;
	case PROTO_GRANT:
		if (!proto_valid_access(m->u.grant.access) ||
		    m->u.grant.persist < PROTO_PERSIST_PMEM ||
		    m->u.grant.persist > PROTO_PERSIST_PAGECACHE ||
		    (m->u.grant.flush & ~(uint32_t)(PROTO_FLUSH_COMMIT | PROTO_FLUSH_RDMA_FLUSH)))
			return -EBADMSG;
		return 0;
	case PROTO_STAT_RESP:
		if (!proto_valid_access(m->u.stat_resp.access) ||
		    m->u.stat_resp.mode < PROTO_MODE_DAX || m->u.stat_resp.mode > PROTO_MODE_PAGECACHE ||
		    m->u.stat_resp.reg < PROTO_REG_ODP || m->u.stat_resp.reg > PROTO_REG_PINNED ||
		    m->u.stat_resp.persist < PROTO_PERSIST_PMEM ||
		    m->u.stat_resp.persist > PROTO_PERSIST_PAGECACHE || m->u.stat_resp.sealed > 1)
			return -EBADMSG;
		return 0;
	case PROTO_REVOKE:
		return m->u.revoke.reason >= PROTO_REVOKE_ADMIN &&
				       m->u.revoke.reason <= PROTO_REVOKE_SHUTDOWN
			       ? 0
			       : -EBADMSG;
	case PROTO_ERROR:
		return m->u.error.err > 0 ? 0 : -EBADMSG;
	default:
		return 0;
	}
}

ssize_t proto_encode(const struct proto_msg *msg, void *buf, size_t size)
{
	struct proto_cur c = { .p = buf, .len = size };
	struct proto_msg m = *msg;
	size_t body = proto_body_size(&m);

	if (body == 0 || (m.hdr.type == PROTO_LIST_RESP && m.u.list_resp.count > PROTO_LIST_MAX))
		return -EINVAL;
	if (size < PROTO_HDR_SIZE + body)
		return -ENOBUFS;
	PUT32(&c, PROTO_MAGIC);
	put_le(&c, PROTO_VERSION, 2);
	put_le(&c, m.hdr.type, 2);
	PUT32(&c, PROTO_HDR_SIZE + body);
	PUT32(&c, m.hdr.req_id);
	proto_body(&c, &m, 1);
	if (c.bad)
		return c.bad == 1 ? -ENOBUFS : -EINVAL;
	return (ssize_t)c.off;
}

int proto_decode(const void *buf, size_t len, struct proto_msg *out)
{
	struct proto_cur c = { .p = (unsigned char *)buf, .len = len };
	uint32_t magic, length;
	size_t body;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < PROTO_HDR_SIZE)
		return -EBADMSG;
	magic = GET32(&c);
	out->hdr.magic = magic;
	out->hdr.version = (uint16_t)get_le(&c, 2);
	out->hdr.type = (uint16_t)get_le(&c, 2);
	length = GET32(&c);
	out->hdr.length = length;
	out->hdr.req_id = GET32(&c);
	if (magic != PROTO_MAGIC || length != len || len > PROTO_MSG_MAX)
		return -EBADMSG;
	if (out->hdr.version != PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (proto_body_size(out) == 0)
		return -EPROTO;
	proto_body(&c, out, 0);
	if (c.bad)
		return -EBADMSG;
	body = proto_body_size(out);
	if (PROTO_HDR_SIZE + body != len)
		return -EBADMSG;
	rc = proto_check_values(out);
	return rc;
}

void proto_conn_priv_encode(const struct proto_conn_priv *priv, void *buf)
{
	struct proto_cur c = { .p = buf, .len = PROTO_CONN_PRIV_SIZE };

	PUT32(&c, PROTO_MAGIC);
	put_le(&c, priv->version, 2);
	put_le(&c, priv->credits, 2);
	PUT32(&c, (uint32_t)priv->status);
	PUT32(&c, priv->max_msg);
}

int proto_conn_priv_decode(const void *buf, size_t len, struct proto_conn_priv *out)
{
	struct proto_cur c = { .p = (unsigned char *)buf, .len = len };

	memset(out, 0, sizeof(*out));
	if (!buf || len < PROTO_CONN_PRIV_SIZE || GET32(&c) != PROTO_MAGIC)
		return -EBADMSG;
	out->version = (uint16_t)get_le(&c, 2);
	out->credits = (uint16_t)get_le(&c, 2);
	out->status = (int32_t)GET32(&c);
	out->max_msg = GET32(&c);
	return 0;
}

const char *proto_type_name(uint16_t type)
{
	switch (type) {
	case PROTO_LIST_REQ: return "LIST_REQ";
	case PROTO_OPEN_REQ: return "OPEN_REQ";
	case PROTO_CLOSE_REQ: return "CLOSE_REQ";
	case PROTO_COMMIT_REQ: return "COMMIT_REQ";
	case PROTO_STAT_REQ: return "STAT_REQ";
	case PROTO_LIST_RESP: return "LIST_RESP";
	case PROTO_GRANT: return "GRANT";
	case PROTO_CLOSE_RESP: return "CLOSE_RESP";
	case PROTO_COMMIT_RESP: return "COMMIT_RESP";
	case PROTO_STAT_RESP: return "STAT_RESP";
	case PROTO_REVOKE: return "REVOKE";
	case PROTO_ERROR: return "ERROR";
	default: return "unknown";
	}
}

const char *proto_revoke_reason_name(uint32_t reason)
{
	switch (reason) {
	case PROTO_REVOKE_ADMIN: return "revoked by the administrator";
	case PROTO_REVOKE_EXPORT_REMOVED: return "export removed";
	case PROTO_REVOKE_FILE_CHANGED: return "file changed under the seal";
	case PROTO_REVOKE_SHUTDOWN: return "daemon shutting down";
	default: return "unknown reason";
	}
}
