/* classify-own.h — file-sharing detectors nDPI 4.2 lacks (eD2k/eMule TCP framing, Kad UDP, Winny's key block): bounded checks of a direction's first bytes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Bytes of each TCP direction's stream start kept for these detectors. */
#define CLS_OWN_START 16

/* Protocol ids of our own, above nDPI's (cls_proto_name knows them). */
#define CLS_PROTO_ED2K 0xff00
#define CLS_PROTO_KAD 0xff01
#define CLS_PROTO_WINNY 0xff02

/* The first len (<= CLS_OWN_START) bytes of one direction of a TCP stream,
 * in order: a protocol id when they are one of ours, else 0 (not one, or
 * not enough bytes yet). */
uint16_t cls_own_tcp(const uint8_t *start, size_t len);
/* A flow's first UDP datagram in one direction, whole. */
uint16_t cls_own_udp(const uint8_t *dgram, size_t len);
/* Our name for an id of ours, NULL for any other. */
const char *cls_own_name(uint16_t proto);
