#pragma once
/// The two build modes, chosen by macros before any runlog header:
///
/// - header-only (the default): every definition is `inline` and visible wherever it is included;
/// - compiled: `RUNLOG_SEPARATE` defined for the whole build, and `RUNLOG_IMPLEMENTATION` in exactly one
///   translation unit (the `runlog::compiled` library's runlog.cpp, or one file of yours with the single
///   header). The non-template definitions, the default logger and the common instantiations are then
///   compiled in that one unit; the others see declarations and `extern template`.
///
/// Class layouts are the same in both modes; only where the definitions are compiled differs.

#if !defined(__cpp_exceptions) && !defined(__EXCEPTIONS)
#error "runlog needs C++ exceptions (it throws for a bad config file, path or format string, and catches what sinks and formatters throw so that a log call never does): build without -fno-exceptions"
// Compilers go on after #error; a missing include stops them, so the message above stays the only one that matters.
#include <runlog: stop here, see the error above>
#endif

#if defined(RUNLOG_IMPLEMENTATION) && !defined(RUNLOG_SEPARATE)
#define RUNLOG_SEPARATE
#endif

#if defined(RUNLOG_SEPARATE)
#define RUNLOG_HEADER_ONLY 0
/// Marks a non-template definition: `inline` in header-only mode, compiled once in the compiled mode.
#define RUNLOG_INLINE
#else
#define RUNLOG_HEADER_ONLY 1
#define RUNLOG_INLINE inline
#endif

/// Whether this translation unit compiles the non-template definitions: always header-only, and only in
/// the implementation unit of the compiled mode.
#if !defined(RUNLOG_SEPARATE) || defined(RUNLOG_IMPLEMENTATION)
#define RUNLOG_DEFINITIONS 1
#else
#define RUNLOG_DEFINITIONS 0
#endif

/// Whether this unit leaves the common instantiations to the implementation unit (compiled mode, not it).
#if defined(RUNLOG_SEPARATE) && !defined(RUNLOG_IMPLEMENTATION)
#define RUNLOG_EXTERN_TEMPLATES 1
#else
#define RUNLOG_EXTERN_TEMPLATES 0
#endif
