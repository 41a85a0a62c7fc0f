/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <string.h>

#include "place.h"
#include "proto.h"

#define PLACE_RXE_VENDOR_ID 0xffffff

static int place_is_rxe(struct ibv_context *verbs)
{
	struct ibv_device_attr attr;

	/* rxe devices may have any name (rdma link add NAME type rxe). */
	if (!strncmp(ibv_get_device_name(verbs->device), "rxe", 3))
		return 1;
	return ibv_query_device(verbs, &attr) == 0 && attr.vendor_id == PLACE_RXE_VENDOR_ID;
}

uint32_t place_of_odp(struct ibv_context *verbs)
{
	if (verbs && place_is_rxe(verbs))
		return PROTO_PLACE_PAGE;
	return PROTO_PLACE_EXACT;
}
