/* iso3166.c — the built-in list of officially assigned ISO 3166-1 alpha-2 country codes, for validating travel regions. */
#include "config.h"

#include <string.h>

#include "travel.h"

/* The 249 officially assigned codes (ISO 3166-1:2020 plus later changes),
 * sorted, two letters each. User-assigned (AA, QM-QZ, XA-XZ, ZZ) and
 * exceptionally reserved codes (EU, UK, ...) are refused: a trip names a
 * country, and a typo must not silently make a region "not high-risk". */
static const char codes[] =
        "ADAEAFAGAIALAMAOAQARASATAUAWAXAZ"
        "BABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ"
        "CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZ"
        "DEDJDKDMDODZ"
        "ECEEEGEHERESETFIFJFKFMFOFR"
        "GAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGY"
        "HKHMHNHRHTHU"
        "IDIEILIMINIOIQIRISIT"
        "JEJMJOJP"
        "KEKGKHKIKMKNKPKRKWKYKZ"
        "LALBLCLILKLRLSLTLULVLY"
        "MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZ"
        "NANCNENFNGNINLNONPNRNUNZ"
        "OM"
        "PAPEPFPGPHPKPLPMPNPRPSPTPWPY"
        "QA"
        "RERORSRURW"
        "SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZ"
        "TCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZ"
        "UAUGUMUSUYUZ"
        "VAVCVEVGVIVN"
        "VUWFWS"
        "YEYT"
        "ZAZMZW";

bool iso3166_alpha2_valid(const char *code) {
        if (!code || strlen(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
                return false;
        for (size_t i = 0; i + 1 < sizeof codes; i += 2)
                if (codes[i] == code[0] && codes[i + 1] == code[1])
                        return true;
        return false;
}
