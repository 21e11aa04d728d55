/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of vsw_frame_classify() (lib/datapath/vsw_dp.h): the
 * per-frame decision the PMD takes before any table lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vsw_dp.h"

static const uint8_t UCAST_A[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t UCAST_B[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST_V4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
static const uint8_t MCAST_V6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t STP[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 };
static const uint8_t ZERO[6] = { 0 };

/* A 64-byte frame dst, src, type 0x0800, payload 0xa5. */
static void
frame(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
	memset(f, 0xa5, 64);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
}

static void
runt(void **state)
{
	uint8_t f[64];
	uint32_t len;

	(void)state;
	/* Even a valid unicast header is a runt when the frame is short. */
	frame(f, UCAST_A, UCAST_B);
	for (len = 0; len < 14; len++)
		assert_int_equal(vsw_frame_classify(f, len), VSW_FRAME_RUNT);
	/* Whatever the bytes say. */
	frame(f, BCAST, ZERO);
	for (len = 0; len < 14; len++)
		assert_int_equal(vsw_frame_classify(f, len), VSW_FRAME_RUNT);
	frame(f, UCAST_A, UCAST_B);
	assert_int_equal(vsw_frame_classify(f, 14), VSW_FRAME_UNICAST);
}

static void
flood(void **state)
{
	const uint8_t *dsts[] = { BCAST, MCAST_V4, MCAST_V6, STP };
	uint8_t f[64];
	unsigned int i;

	(void)state;
	for (i = 0; i < RTE_DIM(dsts); i++) {
		frame(f, dsts[i], UCAST_B);
		assert_int_equal(vsw_frame_classify(f, 64), VSW_FRAME_FLOOD);
		assert_int_equal(vsw_frame_classify(f, 14), VSW_FRAME_FLOOD);
	}
	/* Only the I/G bit of the first byte makes a group address. */
	frame(f, UCAST_A, UCAST_B);
	f[0] = 0x03;
	assert_int_equal(vsw_frame_classify(f, 64), VSW_FRAME_FLOOD);
	f[0] = 0x02;
	f[5] = 0x01;
	assert_int_equal(vsw_frame_classify(f, 64), VSW_FRAME_UNICAST);
}

static void
unicast(void **state)
{
	uint8_t f[1600];

	(void)state;
	frame(f, UCAST_A, UCAST_B);
	assert_int_equal(vsw_frame_classify(f, 64), VSW_FRAME_UNICAST);
	assert_int_equal(vsw_frame_classify(f, 1514), VSW_FRAME_UNICAST);
	frame(f, UCAST_B, UCAST_A);
	assert_int_equal(vsw_frame_classify(f, 60), VSW_FRAME_UNICAST);
	/* An all-zero destination is unicast (looked up, not flooded). */
	frame(f, ZERO, UCAST_A);
	assert_int_equal(vsw_frame_classify(f, 60), VSW_FRAME_UNICAST);
	/* The length only matters below 14 bytes. */
	assert_int_equal(vsw_frame_classify(f, UINT32_MAX), VSW_FRAME_UNICAST);
}

static void
invalid_src(void **state)
{
	const uint8_t *bad_src[] = { BCAST, MCAST_V4, MCAST_V6, STP, ZERO };
	const uint8_t *dsts[] = { UCAST_A, BCAST, MCAST_V4 };
	uint8_t f[64];
	unsigned int i, j;

	(void)state;
	/* Checked before the destination: an invalid source is never flooded. */
	for (i = 0; i < RTE_DIM(bad_src); i++) {
		for (j = 0; j < RTE_DIM(dsts); j++) {
			frame(f, dsts[j], bad_src[i]);
			assert_int_equal(vsw_frame_classify(f, 64), VSW_FRAME_INVALID_SRC);
		}
	}
	/* Any one non-zero byte makes the source valid. */
	for (i = 6; i < 12; i++) {
		frame(f, UCAST_A, ZERO);
		f[i] = i == 6 ? 0x02 : 0x01;
		assert_int_equal(vsw_frame_classify(f, 64), VSW_FRAME_UNICAST);
	}
	/* The group bit of the source's first byte alone makes it invalid. */
	frame(f, UCAST_A, UCAST_B);
	f[6] |= 0x01;
	assert_int_equal(vsw_frame_classify(f, 64), VSW_FRAME_INVALID_SRC);
	/* The EtherType and payload play no part. */
	frame(f, UCAST_A, ZERO);
	f[12] = 0xff;
	f[13] = 0xff;
	assert_int_equal(vsw_frame_classify(f, 64), VSW_FRAME_INVALID_SRC);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runt),
		cmocka_unit_test(flood),
		cmocka_unit_test(unicast),
		cmocka_unit_test(invalid_src),
	};

	/* ./test_x 'pattern': run only the matching tests. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
