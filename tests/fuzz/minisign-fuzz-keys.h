/* minisign-fuzz-keys.h — a throw-away minisign key pair (made with minisign -G -W) and a signature, for the fuzzers only. */
#pragma once

/* NOT a secret: published test material, trusted nowhere. */
static const char fuzz_pubkey_text[] =
        "untrusted comment: minisign public key AB1D1F1D5346AB42\n"
        "RWRCq0ZTHR8dqyd6MtE7lHwesO469pW0eP2+qz1wJs0cfDEDaG9Q3AEN\n";
static const char fuzz_seckey_text[] =
        "untrusted comment: minisign encrypted secret key\n"
        "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQqtGUx0fHavTwutqyoviJo87Mc2kikYF3/cNzx"
        "khmhcw8YVqtZz8vid6MtE7lHwesO469pW0eP2+qz1wJs0cfDEDaG9Q3AENAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
/* minisign -S -t 'fuzz seed' over fuzz_data */
static const char fuzz_sig_text[] =
        "untrusted comment: signature from minisign secret key\n"
        "RURCq0ZTHR8dq+DjTNqttY5HYe48MJ1N0vwCXYYWN198Lop9/9aPRw1Vjx0dwa+s32Pg/Wx6fkJE0u1F5Q0jjCf5N/Qw21MNFAM=\n"
        "trusted comment: fuzz seed\n"
        "nDSNOSHpoihPyBrxXB2eIQBPEgBUQvVXx0XwW0saLxo3KmEcInF6vEsUCILwBVwWPfjsT8V29w/upuAKoHe6Dw==\n";
static const char fuzz_data[] = "sekisho fuzz data\n";
