#include "app_logger.hpp"

RUNLOG_INSTANTIATE_LOGGER(app_logger);
