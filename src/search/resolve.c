/* resolve: being written (issue "Search that understands officers"). */
typedef int focal_placeholder_resolve;
