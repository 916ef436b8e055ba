#include "archivelib.h"

INS_LAZYLIB_DEFINE(libarchive, "libarchive.so.13", LIBARCHIVE_SYMBOLS)
