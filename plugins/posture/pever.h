/* pever.h — a strict reader of the version resource (VS_VERSIONINFO) of a Windows PE executable. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PE_READ_MAX (16u * 1024 * 1024)  /* larger executables are judged by their file name only */
#define PE_STRING_MAX 128                /* bytes of UTF-8 kept per string */

/* The strings of the first StringTable of the first RT_VERSION resource,
 * as UTF-8 ("" when the table does not have the key). */
struct pe_version {
        char original_filename[PE_STRING_MAX];
        char internal_name[PE_STRING_MAX];
        char product_name[PE_STRING_MAX];
        char file_description[PE_STRING_MAX];
        char company_name[PE_STRING_MAX];
        char file_version[PE_STRING_MAX];
};

/* Parse a whole PE file image in data. Returns 0 and the strings, -ENOENT
 * when it is a PE file without a version resource, -EINVAL when anything is
 * out of bounds or not what the format says (never a partial answer). */
int pe_version_parse(const uint8_t *data, size_t size, struct pe_version *ret);
