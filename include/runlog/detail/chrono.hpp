#pragma once
/// The clocks and durations of <chrono>, without the rest. With libstdc++, C++20's <chrono> also brings
/// calendars, time zones and their formatting (<sstream>, <locale>) into every unit that includes it;
/// runlog needs only the clock part, which libstdc++ keeps in <bits/chrono.h>. Elsewhere: <chrono>.
#include <version>
#if defined(__GLIBCXX__) && __has_include(<bits/chrono.h>)
#include <bits/chrono.h>
#else
#include <chrono>
#endif
