#ifndef BRAID_CZLIB_SHIM_H
#define BRAID_CZLIB_SHIM_H
#include <zlib.h>
#endif
