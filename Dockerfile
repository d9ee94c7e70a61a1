# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs settings to load; the real key comes from the environment at run time.
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --no-input
RUN useradd --create-home opsintel && chown -R opsintel /app/var
USER opsintel
EXPOSE 8000
CMD ["gunicorn", "opsintel.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
