/*
 * Libraries loaded on first use. ctk is one binary for every tool; linking
 * each tool's libraries into it would make every start pay for all of them
 * (the loader maps and binds each one before main). A tool that needs a
 * library loads it through one of these tables instead: a struct of function
 * pointers typed from the library's own header, so calls stay checked.
 *
 *   #define MYLIB_SYMBOLS(X) X(lib_open) X(lib_close)
 *   struct mylib { MYLIB_SYMBOLS(INS_LAZY_MEMBER) };
 *   INS_LAZYLIB_DEFINE(mylib, "libmy.so.1", MYLIB_SYMBOLS)
 *   ...
 *   if (mylib_load(err) < 0) return -1;
 *   mylib.lib_open(...);
 */
#ifndef INSPECT_LAZYLIB_H
#define INSPECT_LAZYLIB_H

#include <stddef.h>

#include "inspect/error.h"

#define INS_LAZY_MEMBER(fn) __typeof__(fn) *fn;
#define INS_LAZY_NAME(fn) #fn,

/*
 * Opens SONAME once and fills SLOTS (N pointers) with the SYMBOLS it
 * exports; *HANDLE caches the result. Errors name the library and symbol.
 */
int ins_lazylib_load(void **handle, const char *soname, const char *const *symbols,
		     void **slots, size_t n, struct ins_error *err);

/*
 * Defines NAME_load(err), which fills the table NAME (a struct NAME declared
 * beforehand). The table is process-wide state by nature: a library is
 * loaded once per process. INS_LAZYLIB_DEFINE also defines the table itself
 * (for tables shared through a header); INS_LAZYLIB_DEFINE_STATIC gives a
 * loader for a file-local table.
 */
#define INS_LAZYLIB_DEFINE(name, soname, LIST)                                                \
	struct name name;                                                                     \
	INS_LAZYLIB_LOADER(, name, soname, LIST)

#define INS_LAZYLIB_DEFINE_STATIC(name, soname, LIST) INS_LAZYLIB_LOADER(static, name, soname, LIST)

#define INS_LAZYLIB_LOADER(storage, name, soname, LIST)                                       \
	storage int name##_load(struct ins_error *err)                                        \
	{                                                                                     \
		static void *handle;                                                          \
		static const char *const symbols[] = { LIST(INS_LAZY_NAME) };                 \
		_Static_assert(sizeof(struct name) == sizeof(symbols) / sizeof(symbols[0]) *  \
							 sizeof(void *),                      \
			       "every member is one function pointer");                      \
		return ins_lazylib_load(&handle, soname, symbols, (void **)&name,            \
					sizeof(symbols) / sizeof(symbols[0]), err);           \
	}

#endif
