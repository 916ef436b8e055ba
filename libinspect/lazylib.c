#include <dlfcn.h>
#include <errno.h>

#include "inspect/lazylib.h"

int ins_lazylib_load(void **handle, const char *soname, const char *const *symbols,
		     void **slots, size_t n, struct ins_error *err)
{
	void *h;

	if (*handle)
		return 0;
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return ins_err(err, ELIBACC, "cannot load %s: %s", soname, dlerror());
	for (size_t i = 0; i < n; i++) {
		slots[i] = dlsym(h, symbols[i]);
		if (!slots[i]) {
			dlclose(h);
			return ins_err(err, ELIBBAD, "%s lacks %s", soname, symbols[i]);
		}
	}
	*handle = h;
	return 0;
}
