/* Volumes: directories under CTK_ROOT/volumes/<name>/_data that containers mount. */
#ifndef INSPECT_VOLUME_H
#define INSPECT_VOLUME_H

#include <stdbool.h>
#include <stddef.h>

#include "inspect/error.h"
#include "inspect/store.h"

struct ins_volume {
	char *name; /* a random id for an anonymous volume */
	char *mountpoint; /* the _data directory on the host */
	char *created;
	bool anonymous;
	char **users; /* ids of the containers that use it, NULL-terminated */
};

/* Creates the volume NAME (NULL: an anonymous one), or finds it when it exists. */
int ins_volume_create(struct ins_store *s, const char *name, struct ins_volume *v, struct ins_error *err);
int ins_volume_load(struct ins_store *s, const char *name, struct ins_volume *v, struct ins_error *err);
int ins_volume_list(struct ins_store *s, struct ins_volume **vs, size_t *n, struct ins_error *err);
void ins_volume_free(struct ins_volume *v);
void ins_volume_list_free(struct ins_volume *vs, size_t n);
/* Removes NAME and its data; a volume a container uses is refused. */
int ins_volume_remove(struct ins_store *s, const char *name, struct ins_error *err);
/* Removes every volume no container uses; *COUNT gets how many. */
int ins_volume_prune(struct ins_store *s, size_t *count, struct ins_error *err);

#endif
