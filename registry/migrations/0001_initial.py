# ModelVersion, moved here from classifier (its 0009 removes it there). State only: classifier's 0001_initial
# made the table, classifier_modelversion, which keeps its rows.

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('classifier', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ModelVersion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('file_path', models.CharField(max_length=500)),
                        ('sha256', models.CharField(max_length=64, unique=True)),
                        ('base_network', models.CharField(max_length=100)),
                        ('input_size', models.PositiveIntegerField()),
                        ('class_names', models.JSONField(default=list)),
                        ('metrics', models.JSONField(blank=True, default=dict, help_text='Validation and evaluation results.')),
                        ('trained_at', models.DateTimeField(blank=True, null=True)),
                        ('registered_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'db_table': 'classifier_modelversion',
                        'ordering': ['-registered_at'],
                    },
                ),
            ],
        ),
    ]
