// PCRE2's 8-bit API, for Stint's user patterns (`--transient-pattern`, `--until output:`).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

// The constants Swift cannot import from PCRE2's macros.
static inline int stint_pcre2_error_nomatch(void) { return PCRE2_ERROR_NOMATCH; }
static inline int stint_pcre2_error_matchlimit(void) { return PCRE2_ERROR_MATCHLIMIT; }
static inline int stint_pcre2_error_depthlimit(void) { return PCRE2_ERROR_DEPTHLIMIT; }
static inline int stint_pcre2_error_heaplimit(void) { return PCRE2_ERROR_HEAPLIMIT; }
static inline uint32_t stint_pcre2_compile_options(void) { return PCRE2_UTF | PCRE2_MATCH_INVALID_UTF; }
