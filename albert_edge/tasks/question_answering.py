"""Extractive question answering: start/end logits over (question, context) windows, SQuAD EM/F1."""

from albert_edge.tasks import Bundled, TaskSpec, register

SPEC = register(TaskSpec(
    name="question-answering",
    architecture="AlbertForQuestionAnswering",
    model="albert_edge.model:AlbertForQuestionAnswering",
    outputs=("start_logits", "end_logits"),
    output_shapes=lambda config: [[1, "seq"], [1, "seq"]],
    inputs=("input_ids", "attention_mask", "token_type_ids"),  # token types mark the question and the context
    agreement="all",
    # Top-1 here is an argmax over every position of a window, start and end: int8 noise (SNR ~46 dB on the bundled
    # model) swaps near-tied positions in ~2% of them while the decoded answers barely move (the task metric, which
    # export reports beside it, is the QA gate that matters).
    min_agreement=0.95,
    text_pairs=True,
    metric="albert_edge.qa:evaluate_file",
    task_metric_in_export=True,
    postprocess="albert_edge.qa:postprocess_params",
    default_max_seq_len=384,  # qa.MAX_SEQ_LEN, BERT's SQuAD length (a fine-tuned model records its own)
    pipeline="albert_edge.pipeline:QuestionAnsweringPipeline",
    trainer="albert_edge.qa:QuestionAnsweringTask",
    bundled=Bundled(subdir="qa", eval_sample="squad_dev_sample.json", name="edge-qa"),
))
