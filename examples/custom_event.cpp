// Declaring an event type of your own: a name, a default level, typed fields and a message.
#include <runlog/runlog.hpp>

struct model_trained {
    static constexpr runlog::event_info info{"MODEL_TRAINED", runlog::level::info};
    std::string_view model{};
    double accuracy = 0;
    std::int64_t epochs = 0;

    auto fields() const {
        return std::to_array<runlog::field>({{"model", model}, {"accuracy", accuracy}, {"epochs", epochs}});
    }
    void message(runlog::buffer& out, const runlog::context&) const {
        runlog::format_to(out, "Trained {} for {} epochs: accuracy {:.1f}%.", model, epochs, accuracy * 100);
    }
};

int main() {
    auto log = runlog::make_logger(
        runlog::pipeline("console", runlog::text_formatter::brief(), runlog::stderr_sink{}),
        runlog::pipeline("json", runlog::json_formatter({.source_location = false}), runlog::stdout_sink{}));
    runlog::scoped_context ctx({.run_id = "r-1", .job = "training", .step = "fit"});
    log.event(model_trained{.model = "gbm", .accuracy = 0.9312, .epochs = 40});
    log.event(model_trained{.model = "mlp", .accuracy = 0.88, .epochs = 12}, {{"gpu", false}});
}
