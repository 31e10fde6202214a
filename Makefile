# HematoVision: `make run` installs, migrates, trains a model if none exists and serves the app;
# `make test` runs the whole test suite. Paths below can be overridden from the environment.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= $(abspath ../shared)
export HEMATOVISION_DATASET_DIR ?= $(SHARED)/data/blood-cells/dataset2-master
export HEMATOVISION_PBC_DIR ?= $(SHARED)/data/pbc/PBC_dataset_normal_DIB
export HEMATOVISION_TRAINING_SOURCES ?= kaggle=$(HEMATOVISION_DATASET_DIR),pbc=$(HEMATOVISION_PBC_DIR)
export HEMATOVISION_BASE_WEIGHTS ?= $(SHARED)/keras-weights/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5
export HEMATOVISION_MODEL_PATH ?= $(CURDIR)/var/model/hematovision.keras
HOST ?= 127.0.0.1
PORT ?= 8000

# test-postgres: the tests that write (the apps' tests, the concurrency and Celery worker tests among them) on
# PostgreSQL; .ci/run starts the Debian cluster and creates this role and database. The command tests that train
# or evaluate on the datasets are left to `make test`: their only write, the model version, is tested here too.
PG_SKIP := test_train_model test_evaluate_model test_evaluate_full_size test_cross_validate \
	test_calibrate_review_threshold test_leave_one_lab_out
# Likewise the lab model builds run by command (minutes of fine-tuning): their writes, a lab model change and a
# version, are tested on PostgreSQL by the lab model API tests and the uploads during an activation.
PG_SKIP_LABS := test_adapt_model test_benchmark_adaptation test_lab_model_worker
POSTGRES_URL ?= postgres://hematovision:hematovision@127.0.0.1:5432/hematovision

.PHONY: install run model train cross-validate calibrate leave-one-lab-out bench-adaptation test test-postgres lint check-deploy evaluate bench bench-load \
	bench-runtime bench-decode superuser clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

model: install
	test -f "$(HEMATOVISION_MODEL_PATH)" || $(MAKE) train
	$(BIN)/python manage.py migrate --noinput

# train_model exports the fp32 OpenVINO IR itself; the int8 one is quantised from it and recorded only if it agrees
# with fp32 (ml/quantisation.py). A refusal is an outcome, not a failure: fp32 serves, so make goes on (the "-").
train: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py train_model
	-$(BIN)/python manage.py export_runtime --precision int8

# gunicorn.conf.py sets the processes (WEB_CONCURRENCY, default 1) x 4 threads and the timeout, for `make bench` too.
run: model
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/gunicorn hematovision.wsgi --bind $(HOST):$(PORT)

# A lab's own model, measured (docs/model-card.md, "Adapting to a laboratory"): a shared model trained on Kaggle
# only (once), then PBC as a stand-in lab with N verified cells per class, through the app, and adapt_model; each N
# on a throwaway database and media folder under $(ADAPTATION_DIR).
ADAPTATION_DIR ?= artifacts/adaptation
ADAPTATION_CELLS ?= 10 100
KAGGLE_ONLY := $(ADAPTATION_DIR)/kaggle-only/model.keras
bench-adaptation: install
	test -f $(KAGGLE_ONLY) || (DATABASE_URL=sqlite:///$(abspath $(ADAPTATION_DIR))/train.sqlite3 \
		$(BIN)/python manage.py migrate --noinput -v 0 && DATABASE_URL=sqlite:///$(abspath $(ADAPTATION_DIR))/train.sqlite3 \
		$(BIN)/python manage.py train_model --source kaggle=$(HEMATOVISION_DATASET_DIR) --output $(KAGGLE_ONLY))
	for cells in $(ADAPTATION_CELLS); do \
		run=$(abspath $(ADAPTATION_DIR))/$$cells-per-class; rm -rf $$run; mkdir -p $$run; \
		export DATABASE_URL=sqlite:///$$run/db.sqlite3 HEMATOVISION_MEDIA_ROOT=$$run/media \
			HEMATOVISION_MODEL_PATH=$(abspath $(KAGGLE_ONLY)) HEMATOVISION_LAB_MODELS_DIR=$$run/lab-models; \
		$(BIN)/python manage.py migrate --noinput -v 0 && \
		$(BIN)/python manage.py evaluate_model --source kaggle=$(HEMATOVISION_DATASET_DIR) \
			--source pbc=$(HEMATOVISION_PBC_DIR) > $$run/shared-evaluation.txt && \
		$(BIN)/python manage.py benchmark_adaptation --lab-source pbc=$(HEMATOVISION_PBC_DIR) --cells-per-class $$cells \
			-- --source kaggle=$(HEMATOVISION_DATASET_DIR) --evaluate-on kaggle=$(HEMATOVISION_DATASET_DIR) \
			--evaluate-on pbc=$(HEMATOVISION_PBC_DIR) || exit 1; \
	done

test: install
	$(BIN)/python -m pytest

test-postgres: install
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/python -m pytest tests/accounts tests/classifier tests/labs tests/registry \
		-m "not browser and not real_model" $(foreach module,$(PG_SKIP),--ignore=tests/registry/$(module).py) \
		$(foreach module,$(PG_SKIP_LABS),--ignore=tests/labs/$(module).py)

# Lint and formatting (ruff, pyproject.toml) and the import contracts (import-linter): no import circle, ml/ free of
# Django, one bridge from the web to ml/.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# What CI checks of the Django project: no model change without its migration, and the production settings.
check-deploy: install
	$(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SECRET_KEY=check-deploy-only-Zq7v3Kp9Lw2Rt6Yx1Nb8Hc4Md0Fg5Js-not-used-anywhere \
		DJANGO_ALLOWED_HOSTS=hematovision.example DJANGO_SECURE_SSL_REDIRECT=true DJANGO_SECURE_COOKIES=true \
		DJANGO_HSTS_SECONDS=31536000 DJANGO_HSTS_INCLUDE_SUBDOMAINS=true DJANGO_HSTS_PRELOAD=true \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

cross-validate: install
	$(BIN)/python manage.py cross_validate --json artifacts/cross_validation.json

# The review threshold for the model at HEMATOVISION_MODEL_PATH, from the out-of-fold predictions of its recipe.
calibrate: install
	$(BIN)/python manage.py calibrate_review_threshold --cross-validation artifacts/cross_validation.json

# The shipped recipe trained on each laboratory alone and read on the other (docs/model-card.md, "A laboratory it
# has never seen"), then the review threshold that leaves at most 5% of the unseen lab's cells wrong and unflagged.
leave-one-lab-out: install
	$(BIN)/python manage.py leave_one_lab_out --json artifacts/leave_one_lab_out.json
	$(BIN)/python manage.py calibrate_review_threshold --leave-one-lab-out artifacts/leave_one_lab_out.json

evaluate: model
	$(BIN)/python manage.py evaluate_model --json artifacts/evaluation.json --plots artifacts/plots
	$(BIN)/python manage.py evaluate_full_size --json artifacts/full_size.json

# The load benchmark (docs/benchmark.md): a real gunicorn, 0, 1 and 2 Celery workers; sizes: benchmark_load --help.
# Then the model-level figures of bench-runtime.
bench: bench-load bench-runtime bench-decode

bench-load: model
	$(BIN)/python manage.py benchmark_load

# Keras against the OpenVINO export of the model (exported first when it has none), in one run: agreement on every
# evaluation set and the speed targets (docs/model-card.md, "Runtime").
bench-runtime: model
	test -f "$(basename $(HEMATOVISION_MODEL_PATH)).openvino.xml" || $(BIN)/python manage.py export_runtime
	$(BIN)/python manage.py compare_runtimes --json artifacts/runtimes.json

# What the request's check of a worker's image costs against the full decode it replaced (docs/benchmark.md).
bench-decode: install
	$(BIN)/python -m benchmarks.decode

superuser: install
	$(BIN)/python manage.py createsuperuser

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
