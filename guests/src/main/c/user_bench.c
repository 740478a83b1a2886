#include "lab.h"
