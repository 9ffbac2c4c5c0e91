/* backup: a maintenance program wrapped in the heavy-maintenance lease. */
#include "programs/maintenance.h"

int main(int argc, char **argv) {
    return maintenance_main("backup", "❌ Backup failed:", argc, argv);
}
